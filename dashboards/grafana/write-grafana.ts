/**
 * `npm run dashboards`: writes every dashboard's JSON and the provisioning files into one
 * folder a Grafana can mount (default dashboards/out/grafana; `--out DIR` to choose):
 *   DIR/dashboards/*.json
 *   DIR/provisioning/datasources/fabricscope.yaml
 *   DIR/provisioning/dashboards/fabricscope.yaml
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DASHBOARDS } from './all-dashboards.js';
import { dashboardProvisioning, datasourceProvisioning } from './provisioning.js';

export function writeGrafanaFolder(outDir: string): string[] {
  const written: string[] = [];
  const write = (path: string, text: string): void => {
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
    written.push(path);
  };
  // Dashboards removed from the code must not linger in a mounted folder.
  rmSync(join(outDir, 'dashboards'), { recursive: true, force: true });
  for (const { file, build } of DASHBOARDS) write(join(outDir, 'dashboards', file), JSON.stringify(build().build(), null, 2));
  write(join(outDir, 'provisioning', 'datasources', 'fabricscope.yaml'), datasourceProvisioning());
  write(join(outDir, 'provisioning', 'dashboards', 'fabricscope.yaml'), dashboardProvisioning());
  return written;
}

const PACKAGE_ROOT = resolve(import.meta.dirname, '..', '..', ...(import.meta.dirname.includes('/dist/') ? ['..'] : []));

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const i = process.argv.indexOf('--out');
  const outDir = resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : join(PACKAGE_ROOT, 'dashboards', 'out', 'grafana'));
  const files = writeGrafanaFolder(outDir);
  process.stdout.write(`${files.length} files written under ${outDir}\n`);
}
