/** The HTTP API as the UI reads it: the response shapes it uses, and one fetch helper. */

// Shapes the API serves as the core defines them (type-only: nothing of core enters the bundle).
import type { Evidence } from '../../../core/records.js';
import type { JobSeriesPoint } from '../../../core/store.js';
export type { Evidence };
export type JobPoint = JobSeriesPoint;

export interface Stall {
  id: string;
  job: string;
  collective: string;
  seq: number;
  start: string;
  end: string;
  duration_us: number;
  expected_us: number;
  slowest_rank: number;
  root_cause: { kind: string; location: string; confidence: number; evidence: Evidence[] };
}

export interface StallDetail extends Stall {
  ranks: Array<{ rank: number; host: string; gpu: string; start_us: number; end_us: number; exec_time_us: number }>;
}

export interface Alert {
  id: string;
  rule: string;
  state: 'pending' | 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string | null;
  value: number;
}

export interface Gpu {
  id: string;
  node: string;
  uuid: string;
  model: string;
  last_seen: string;
  metrics: Record<string, number>;
}

export interface PortPoint {
  t_ms: number;
  queue_bytes_max: number;
  queue_bytes_avg: number;
  tx_gbps: number;
  ecn_marked_pkts_per_s: number;
  pfc_pause_fraction: number;
  credit_stall_fraction: number;
  link_errors: number;
  down_samples: number;
}

export interface GpuPoint {
  t_ms: number;
  metrics: Record<string, number>;
}


export interface PortEntry {
  name: string;
  device: string;
  role: string | null;
  peer: string | null;
  capacity_gbps: number | null;
  state: null | { last_seen: string; oper_up: boolean; queue_bytes: number; tx_gbps: number; ecn_marked_pkts_per_s: number; pfc_pause_fraction: number; credit_stall_fraction: number; link_errors: number };
}

export interface Job {
  job: string;
  n_ranks: number;
  collectives: string[];
  calls: number;
  first: string;
  last: string;
  busbw_avg_gbs: number;
}

export interface RootCause {
  kind: string;
  location: string;
  stalls: number;
  gpu_seconds_lost: number;
  jobs: string[];
  first: string;
  last: string;
}

export interface UiConfig {
  live: boolean;
  /** The API requires a bearer token. */
  auth: boolean;
  version: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

import { askForToken, authorizationHeader, storedToken } from './api-token.js';

type Query = Record<string, string | number | undefined>;

export async function get<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  const res = await fetch(`${path}${qs ? `?${qs}` : ''}`, { signal, headers: { accept: 'application/json', ...authorizationHeader() } });
  if (res.status === 401) askForToken(storedToken() ? 'The server did not accept this token. Enter another.' : 'This server requires an API token.');
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = ((await res.json()) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, message);
  }
  return (await res.json()) as T;
}

/** Names with a `/` go in the path as is: the series routes take the rest of the path. */
export const seriesPath = (kind: 'port' | 'gpu' | 'job', name: string) => `/api/v1/series/${kind}/${name.split('/').map(encodeURIComponent).join('/')}`;
