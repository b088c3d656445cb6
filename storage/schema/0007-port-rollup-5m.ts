/**
 * `port_samples_5m`: a 5-minute rollup of port_samples, for series over many hours or days at
 * steps of whole 5 minutes (a day at a 5-min step reads 288 rows a port instead of 1,440 from
 * the 1-minute rollup), in small granules (small-granule-rollup.ts): one port's day unpacks
 * ~500 rows, where the 8,192-row granules and 64 KB blocks of the older rollups unpack ~16,000
 * rows to hand over ~1,500. Measured on a day of 2,048 ports: 12 such series read in one query
 * took 15 ms of engine time (24 ms with the default blocks, 100 ms from the 1-minute rollup),
 * for 13 % more bytes on disk than default blocks.
 *
 * Kept like the rollups of 0003: an AggregatingMergeTree of SimpleAggregateFunction columns
 * fed by a materialized view over the raw samples; backfilled once from the 1-minute rollup.
 */
import { coarserRollupMigration } from './small-granule-rollup.js';

export const portRollup5m = coarserRollupMigration({
  version: 7,
  name: 'port_samples 5 min rollup',
  table: 'port_samples_5m',
  partition: 'toYYYYMM(ts)',
  bucket: 'toStartOfFiveMinutes(ts)',
  backfillFrom: 'port_samples_1m',
});
