/**
 * Stores each stall's rank count beside the ranks array. "GPU-seconds lost" multiplies every
 * stall's excess duration by its ranks; reading a small integer instead of the whole ranks
 * array keeps the root-cause ranking cheap. Parts written before this migration compute it
 * from `ranks` on read (a DEFAULT column), new inserts store it.
 */
import type { Migration } from './migration.js';

export const stallRankCount: Migration = {
  version: 2,
  name: 'stalls.n_ranks',
  statements: (l) => l.alterColumns('stalls', 'ADD COLUMN IF NOT EXISTS n_ranks UInt32 DEFAULT length(ranks) AFTER ranks'),
};
