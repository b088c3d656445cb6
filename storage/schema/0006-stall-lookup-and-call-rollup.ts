/**
 * Two read paths that the first tables serve badly, each a table kept by a materialized view:
 *
 * - `stalls_by_id`: every stall row again, sorted by id in small granules. `stalls` is sorted
 *   by (job, start, id) in 8192-row granules, so finding one stall by id unpacked a granule of
 *   `ranks` arrays (~128 rank timings per stall, megabytes); here a lookup reads 16 stalls.
 *   Versions collapse like in `stalls` (ReplacingMergeTree(version)); readers take the newest.
 *   The view is created before the backfill, which copies only the stalls whose id the lookup
 *   lacks: a stall stored while this migration runs is never lost (the view has it, and its
 *   newest version is all a reader takes), and a re-run after a crash copies nothing twice.
 * - `collective_calls`: one row per collective call (job, communicator, seq) instead of one per
 *   rank: first start, last end, and the busbw sum over its ranks. A job's duration percentiles
 *   over an hour read calls instead of every rank's event. An AggregatingMergeTree of
 *   SimpleAggregateFunction(min/max/sum) columns, so partial rows of one call (its ranks arrive
 *   in several inserts) merge exactly, and readers re-aggregate with the same functions. The
 *   key starts with the job and the hour of the events, so a window reads a job's hours only.
 *   Like the port rollups (0003) it is backfilled once, into an empty table, before its view
 *   exists, so a re-run never double counts.
 *
 * Both get the non-replicated deduplication window of 0005 (replicated tables keep their own),
 * so an insert retried with its deduplication token is not counted twice in the rollup either.
 */
import type { Migration } from './migration.js';
import type { SchemaLayout } from './layout.js';

/** What 0005 gives the other tables, in the CREATE itself here. */
const dedupWindow = (l: SchemaLayout) => (l.replicated ? [] : ['non_replicated_deduplication_window = 1000']);
const settings = (list: string[]) => (list.length ? `\nSETTINGS ${list.join(', ')}` : '');

/** A lookup by id reads one granule: 16 stalls' ranks instead of thousands. */
export const STALL_LOOKUP_GRANULE = 16;

const STALL_COLUMNS =
  'id, job, collective, seq, start, end, duration_us, expected_us, slowest_rank, ranks, n_ranks, rc_kind, rc_location, rc_confidence, rc_evidence, version';

const stallsById = (l: SchemaLayout) => `
${l.createTable('stalls_by_id')}
(
    id            String,
    job           LowCardinality(String),
    collective    LowCardinality(String),
    seq           UInt64,
    start         DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    end           DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    duration_us   UInt64,
    expected_us   UInt64,
    slowest_rank  Int32,
    ranks         Array(Tuple(rank UInt32, host String, gpu String, start_us Int64, end_us Int64, exec_time_us UInt64)) CODEC(ZSTD(3)),
    n_ranks       UInt32,
    rc_kind       LowCardinality(String),
    rc_location   LowCardinality(String),
    rc_confidence Float32,
    rc_evidence   String CODEC(ZSTD(3)),
    version       UInt64,
    stored_at     DateTime('UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
${l.engine('stalls_by_id', 'ReplacingMergeTree', 'version')}
PARTITION BY toYYYYMM(start)
ORDER BY id${settings([`index_granularity = ${STALL_LOOKUP_GRANULE}`, ...dedupWindow(l)])}`;

const stallsByIdView = (l: SchemaLayout) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS stalls_by_id_mv${l.onCluster} TO ${l.storage('stalls_by_id')} AS
SELECT ${STALL_COLUMNS} FROM ${l.storage('stalls')}`;

const stallsByIdBackfill = () => `
INSERT INTO stalls_by_id (${STALL_COLUMNS})
SELECT ${STALL_COLUMNS} FROM stalls
WHERE id NOT IN (SELECT id FROM stalls_by_id)`;

const sum = (type: string) => `SimpleAggregateFunction(sum, ${type}) CODEC(ZSTD(1))`;
const collectiveCalls = (l: SchemaLayout) => `
${l.createTable('collective_calls')}
(
    job        LowCardinality(String),
    hour       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    comm_id    LowCardinality(String),
    seq        UInt64 CODEC(Delta, ZSTD(1)),
    events     ${sum('UInt64')},
    start      SimpleAggregateFunction(min, DateTime64(6, 'UTC')) CODEC(Delta, ZSTD(1)),
    end        SimpleAggregateFunction(max, DateTime64(6, 'UTC')) CODEC(Delta, ZSTD(1)),
    busbw_sum  ${sum('Float64')},
    -- when the latest contribution was stored: what retention counts from (0004)
    stored_at  SimpleAggregateFunction(max, DateTime('UTC')) DEFAULT now() CODEC(Delta, ZSTD(1))
)
${l.engine('collective_calls', 'AggregatingMergeTree')}
PARTITION BY toYYYYMMDD(hour)
ORDER BY (job, hour, comm_id, seq)${settings(dedupWindow(l))}`;

const CALL_COLUMNS = 'job, hour, comm_id, seq, events, start, end, busbw_sum';
const callsOf = (l: SchemaLayout) => `
SELECT job, toStartOfHour(start) AS hour, comm_id, seq,
       count() AS events, min(start) AS call_start, max(end) AS call_end, sum(busbw_gbs) AS busbw_sum
FROM ${l.storage('collective_events')}
GROUP BY job, hour, comm_id, seq`;

const collectiveCallsBackfill = (l: SchemaLayout) => `
INSERT INTO collective_calls (${CALL_COLUMNS})
SELECT job, hour, comm_id, seq, events, call_start, call_end, busbw_sum FROM (${callsOf(l)})
WHERE (SELECT count() FROM collective_calls) = 0`;

const collectiveCallsView = (l: SchemaLayout) => `
CREATE MATERIALIZED VIEW IF NOT EXISTS collective_calls_mv${l.onCluster} TO ${l.storage('collective_calls')} AS
SELECT job, hour, comm_id, seq, events, call_start AS start, call_end AS end, busbw_sum FROM (${callsOf(l)})`;

export const stallLookupAndCallRollup: Migration = {
  version: 6,
  name: 'stalls_by_id lookup and collective_calls rollup',
  // A cluster schema is created from nothing by this code: no rows to backfill, and an
  // INSERT would reach one node only (as in 0003).
  statements: (l) => [
    stallsById(l),
    ...l.distributedTable('stalls_by_id'),
    stallsByIdView(l),
    ...(l.cluster ? [] : [stallsByIdBackfill()]),
    collectiveCalls(l),
    ...l.distributedTable('collective_calls'),
    ...(l.cluster ? [] : [collectiveCallsBackfill(l)]),
    collectiveCallsView(l),
  ],
};
