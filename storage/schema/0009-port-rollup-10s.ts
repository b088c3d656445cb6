/**
 * `port_samples_10s`: a 10-second rollup of port_samples, for series over an hour or so at
 * steps of whole 10 seconds (the last hour at a 10 s step reads 360 rows a port instead of
 * 3,600 from the 1-second rollup when ports report every second or faster). Laid out like
 * 0007's 5-minute rollup (small-granule-rollup.ts); partitioned by day like the 1-second
 * rollup it is backfilled from.
 */
import { coarserRollupMigration } from './small-granule-rollup.js';

export const portRollup10s = coarserRollupMigration({
  version: 9,
  name: 'port_samples 10 s rollup',
  table: 'port_samples_10s',
  partition: 'toYYYYMMDD(ts)',
  bucket: 'toStartOfInterval(ts, INTERVAL 10 SECOND)',
  backfillFrom: 'port_samples_1s',
});
