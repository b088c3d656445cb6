/**
 * Builds the built-in UI into dist/ui: the browser sources (web/) bundled by esbuild into
 * one ES module with ECharts, plus the page and its stylesheet. Run by `npm run build`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PACKAGE_ROOT, UI_DIR } from './ui-directory.js';

const WEB = join(PACKAGE_ROOT, 'dashboards', 'ui', 'web');

mkdirSync(UI_DIR, { recursive: true });
await build({
  entryPoints: [join(WEB, 'main.ts')],
  outfile: join(UI_DIR, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
for (const file of ['index.html', 'styles.css']) copyFileSync(join(WEB, file), join(UI_DIR, file));
process.stdout.write(`UI built into ${UI_DIR}\n`);
