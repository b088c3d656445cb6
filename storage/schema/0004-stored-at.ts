/**
 * When each row was stored, the clock retention counts from (schema/retention.ts). Event time
 * would be the usual choice, but replayed scenarios and backfills carry event times weeks or
 * months old: an event-time TTL would delete them as they land. For live telemetry both
 * clocks agree. Rows stored before this migration read the default (now) until their part is
 * rewritten, so they expire only after a merge or `ALTER TABLE … MATERIALIZE COLUMN stored_at`.
 * The rollups (0003) carry the column from their creation.
 */
import type { Migration } from './migration.js';

const TABLES = ['port_samples', 'gpu_samples', 'collective_events', 'congestion_episodes', 'stalls', 'alerts'];

export const storedAt: Migration = {
  version: 4,
  name: 'stored_at on every table, for retention',
  statements: (l) =>
    TABLES.flatMap((t) => l.alterColumns(t, `ADD COLUMN IF NOT EXISTS stored_at DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))`)),
};
