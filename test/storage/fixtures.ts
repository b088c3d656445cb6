/** Canonical records for storage and API tests: small, deterministic, readable. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, CollectiveEvent, CongestionEpisode, GpuSample, PortSample, Stall } from '../../core/records.js';
import type { RootCauseKind } from '../../core/names.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { PortSeriesPoint, SeriesResolution, SeriesWindow } from '../../core/store.js';
import { portSeriesQuery, type PortBucketRow } from '../../storage/series-queries.js';
import { portPointOf } from '../../storage/series-points.js';

export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A fresh chDB directory; chDB binds one per process, so one per test file. */
export const tempDataDir = (label: string): string => mkdtempSync(join(tmpdir(), `fabricscope-${label}-`));

export function stall(
  seq: number,
  overrides: Partial<Omit<Stall, 'root_cause'>> & { kind?: RootCauseKind; location?: string } = {},
): Stall {
  const { kind = 'incast_congestion', location = 'leaf-3/p5', ...rest } = overrides;
  const job = rest.job ?? 'train-a';
  const start_ms = rest.start_ms ?? T0 + seq * 1000;
  const duration_us = rest.duration_us ?? 50_000;
  return {
    id: `${job}:${seq}`,
    job,
    collective: 'AllReduce',
    seq,
    start_ms,
    end_ms: start_ms + Math.round(duration_us / 1000),
    duration_us,
    expected_us: 20_000,
    slowest_rank: 5,
    ranks: [
      { rank: 0, host: 'node-0', gpu: 'node-0/gpu-0', start_us: start_ms * 1000, end_us: start_ms * 1000 + 20_000, exec_time_us: 20_000 },
      { rank: 5, host: 'node-0', gpu: 'node-0/gpu-5', start_us: start_ms * 1000 + 30_000, end_us: start_ms * 1000 + duration_us, exec_time_us: 20_000 },
    ],
    root_cause: {
      kind,
      location,
      confidence: 0.9,
      evidence: [
        { signal: 'queue_bytes', location, value: 900_000, reference: 100_000, unit: 'bytes' },
        { signal: 'ecn_marked_pkts', location, value: 1200 },
      ],
    },
    ...rest,
  };
}

export const portSample = (i: number, port = 'leaf-3/p5'): PortSample => ({
  ts_ms: T0 + i * 100,
  port,
  device: port.split('/')[0]!,
  interval_ms: i === 0 ? 0 : 100,
  queue_bytes: 1000 * i,
  tx_bytes: 5_000_000,
  ecn_marked_pkts: i,
  pfc_tx_pause_frames: 0,
  pfc_rx_pause_frames: 0,
  pfc_rx_pause_us: 0,
  credit_stall_us: 0,
  link_errors: 0,
  oper_up: true,
});

export const gpuSample = (gpu: string, ts_ms: number, clock: number): GpuSample => ({
  ts_ms,
  gpu,
  node: gpu.split('/')[0]!,
  uuid: `GPU-${gpu.replace(/\W/g, '')}`,
  model: 'NVIDIA H100 80GB HBM3',
  metrics: { DCGM_FI_DEV_SM_CLOCK: clock, DCGM_FI_DEV_GPU_UTIL: 97.5 },
});

export const collectiveEvent = (rank: number, seq: number): CollectiveEvent => ({
  job: 'train-a',
  comm_id: '0x5ad1',
  rank,
  n_ranks: 16,
  host: 'node-0',
  collective: 'AllReduce',
  seq,
  msg_bytes: 268435456,
  start_us: (T0 + seq * 1000) * 1000 + 17,
  end_us: (T0 + seq * 1000) * 1000 + 20_017,
  exec_time_us: 20_000,
  algbw_gbs: 13.42,
  busbw_gbs: 25.16,
});

export const episode = (id: string, end_ms = T0 + 3000): CongestionEpisode => ({
  id,
  port: 'leaf-3/p5',
  device: 'leaf-3',
  start_ms: T0 + 1000,
  end_ms,
  peak_queue_bytes: 2_000_000,
  ecn_marked_pkts: 4000,
  pfc_tx_pause_frames: 12,
  pfc_rx_pause_us: 0,
  credit_stall_us: 0,
  link_errors: 0,
  signals: ['queue', 'ecn'],
});

export const alert = (id: string, state: Alert['state'], updated_ms: number): Alert => ({
  id,
  rule: 'FabricNondeterminism',
  state,
  labels: { job: 'train-a', severity: 'warning' },
  annotations: { summary: 'collective duration variance above threshold' },
  starts_ms: T0 + 5000,
  ends_ms: state === 'resolved' ? T0 + 9000 : 0,
  value: 0.42,
  updated_ms,
});

/** A port series' points as ClickHouse's grouped query over `resolution` computes them. */
export async function groupedPortPoints(client: ClickHouseClient, port: string, w: SeriesWindow, resolution: SeriesResolution): Promise<PortSeriesPoint[]> {
  const q = portSeriesQuery(port, w, resolution);
  return (await (await client.query({ ...q, format: 'JSONEachRow' })).json<PortBucketRow>()).map(portPointOf);
}
