/**
 * The storage seam. The sink writes canonical records through it, the API reads through it.
 * One implementation (storage/clickhouse-store.ts) runs the same DDL and queries on embedded
 * chDB and on a ClickHouse server; nothing outside storage/ sees SQL.
 */
import type { Alert, AlertState, Stall, Topic, TopicRecords } from './records.js';
import type { RootCauseKind } from './names.js';

export interface StallFilter {
  from_ms?: number;
  to_ms?: number;
  job?: string;
  kind?: RootCauseKind;
  location?: string;
  min_duration_us?: number;
  limit: number;
}

export interface AlertFilter {
  state?: AlertState;
  limit: number;
}

export interface GpuView {
  id: string;
  node: string;
  uuid: string;
  model: string;
  last_seen_ms: number;
  metrics: Record<string, number>;
}

export interface Store {
  /** Creates or upgrades the schema; safe to run any number of times. */
  migrate(): Promise<void>;
  /**
   * Writes records. Idempotent for stalls, episodes and alerts (deterministic ids), so a retry
   * after a failure does not duplicate them.
   */
  insert<T extends Topic>(topic: T, rows: TopicRecords[T][]): Promise<void>;
  listStalls(filter: StallFilter): Promise<Stall[]>;
  getStall(id: string): Promise<Stall | undefined>;
  listAlerts(filter: AlertFilter): Promise<Alert[]>;
  listGpus(): Promise<GpuView[]>;
  /** Rows stored per topic. */
  counts(): Promise<Record<Topic, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
