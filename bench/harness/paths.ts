/** Where the built programs the bench starts live (it runs from dist/bench/). */
import { resolve } from 'node:path';

const DIST = resolve(import.meta.dirname, '..', '..');
export const FABRICSCOPE_CLI = resolve(DIST, 'cli', 'fabricscope.js');
export const DIRECT_INSERT_CHILD = resolve(DIST, 'bench', 'suites', 'direct-insert-child.js');
export const EMULATOR_ONLY_CHILD = resolve(DIST, 'bench', 'suites', 'emulator-only-child.js');
/** bench/api/bench-api.js, built by `tsc -p bench/api`. */
export const API_BENCH = resolve(DIST, 'bench', 'api', 'bench-api.js');
export const TARGETS_CHILD = resolve(DIST, 'bench', 'targets', 'serve-targets.js');
/** bench/out/ in the source tree (beside dist/), where report.json goes. */
export const OUT_DIR = resolve(DIST, '..', 'bench', 'out');
