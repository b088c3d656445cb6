import type { ClickHouseClient } from '@clickhouse/client';
import type { SchemaLayout } from './layout.js';

/** One versioned schema step. Its statements must be idempotent (IF NOT EXISTS …) so that a
 * crash between running them and recording the version is repaired by simply running again. */
export interface Migration {
  /** Strictly increasing, never reused. */
  version: number;
  name: string;
  /** The step's DDL for a layout (one node or a cluster, see layout.ts), as run on a schema of
   * the previous version. */
  statements: (layout: SchemaLayout) => readonly string[];
  /**
   * For a step that cannot be made idempotent statement by statement (a table rebuilt and
   * swapped in, see 0008): looks at the schema as found — perhaps left half-way by a crash —
   * and returns the statements that finish the step from there. Used instead of `statements`.
   */
  statementsFor?: (client: ClickHouseClient, layout: SchemaLayout) => Promise<readonly string[]>;
}
