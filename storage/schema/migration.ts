import type { SchemaLayout } from './layout.js';

/** One versioned schema step. Its statements must be idempotent (IF NOT EXISTS …) so that a
 * crash between running them and recording the version is repaired by simply running again. */
export interface Migration {
  /** Strictly increasing, never reused. */
  version: number;
  name: string;
  /** The step's DDL for a layout (one node or a cluster, see layout.ts). */
  statements: (layout: SchemaLayout) => readonly string[];
}
