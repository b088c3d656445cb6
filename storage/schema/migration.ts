/** One versioned schema step. Its statements must be idempotent (IF NOT EXISTS …) so that a
 * crash between running them and recording the version is repaired by simply running again. */
export interface Migration {
  /** Strictly increasing, never reused. */
  version: number;
  name: string;
  statements: readonly string[];
}
