/** Where the built UI is: dist/ui under the package root, whether this runs from dist/ or from sources. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = packageRoot(import.meta.dirname);
export const UI_DIR = join(PACKAGE_ROOT, 'dist', 'ui');
