import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DcgmScraper, normaliseTarget } from '../../collectors/dcgm/dcgm-scraper.js';
import { captureBus } from './bus-capture.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

/** A dcgm-exporter look-alike: `body()` is served at /metrics. */
async function exporter(body: () => string, status = 200): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res.writeHead(status, { 'content-type': 'text/plain; version=0.0.4' }).end(body());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Accepts the connection and never answers. */
async function hangingExporter(): Promise<string> {
  const server = createServer(() => {});
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

const nodeText = (node: number, clock: number, ts?: number) =>
  [
    '# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).',
    '# TYPE DCGM_FI_DEV_SM_CLOCK gauge',
    ...[0, 1].map(
      (g) =>
        `DCGM_FI_DEV_SM_CLOCK{gpu="${g}",UUID="GPU-${node}-${g}",pci_bus_id="00000000:0${g}:00.0",device="nvidia${g}",modelName="NVIDIA H100 80GB HBM3",Hostname="node-${node}",DCGM_FI_DRIVER_VERSION="580.105.08"} ${clock}${ts ? ` ${ts}` : ''}`,
    ),
    '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
    '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
    `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-${node}-0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-${node}"} 97${ts ? ` ${ts}` : ''}`,
    '',
  ].join('\n');

describe('dcgm-exporter scraper', () => {
  it('scrapes every target concurrently and publishes one GpuSample per GPU', async () => {
    const { bus, records } = captureBus('gpu_samples');
    const a = await exporter(() => nodeText(0, 1980, 1_767_225_600_000));
    const b = await exporter(() => nodeText(1, 1410));
    const scraper = new DcgmScraper({ bus, targets: [a, b], logger: silent });
    const before = Date.now();
    const report = await scraper.scrapeAll();
    await bus.drain();
    expect(report.failed_targets).toBe(0);
    expect(report.published).toBe(4);
    expect(report.targets.map((t) => [t.samples, t.records])).toEqual([[3, 2], [3, 2]]);
    const g = records.find((s) => s.gpu === 'node-0/gpu-0')!;
    expect(g).toEqual({
      ts_ms: 1_767_225_600_000,
      gpu: 'node-0/gpu-0',
      node: 'node-0',
      uuid: 'GPU-0-0',
      model: 'NVIDIA H100 80GB HBM3',
      metrics: { DCGM_FI_DEV_SM_CLOCK: 1980, DCGM_FI_DEV_GPU_UTIL: 97 },
    });
    // Lines without a timestamp take the scrape time.
    expect(records.find((s) => s.gpu === 'node-1/gpu-1')!.ts_ms).toBeGreaterThanOrEqual(before);
    expect(scraper.stats()).toMatchObject({ received: 6, rejected: 0, published: 4, failed_scrapes: 0 });
  });

  it('reports failing, hanging and malformed targets without losing the good ones', async () => {
    const { bus, records } = captureBus('gpu_samples');
    const good = await exporter(() => nodeText(2, 1000) + 'garbage line here\n');
    const broken = await exporter(() => 'oops', 500);
    const hanging = await hangingExporter();
    const scraper = new DcgmScraper({ bus, targets: [good, broken, hanging], timeoutMs: 300, logger: silent });
    const report = await scraper.scrapeAll();
    await bus.drain();
    expect(report.targets.map((t) => t.ok)).toEqual([true, false, false]);
    expect(report.targets[0]!.parse_errors).toBe(1);
    expect(report.targets[1]!.error).toBe('HTTP 500');
    expect(report.targets[2]!.error).toBe('timed out after 300 ms');
    expect(records.map((r) => r.gpu).sort()).toEqual(['node-2/gpu-0', 'node-2/gpu-1']);
    const stats = scraper.stats();
    expect(stats.rejected).toBe(1);
    expect(stats.up).toEqual({ [normaliseTarget(good)]: 1, [normaliseTarget(broken)]: 0, [hanging]: 0 });
  });

  it('scrapes periodically between start() and stop()', async () => {
    const { bus, records } = captureBus('gpu_samples');
    let clock = 1000;
    const target = await exporter(() => nodeText(5, clock++));
    const scraper = new DcgmScraper({ bus, targets: [target], logger: silent });
    scraper.start(20);
    while (scraper.stats().published < 6) await new Promise((r) => setTimeout(r, 10));
    await scraper.stop();
    const published = scraper.stats().published;
    await bus.drain();
    expect(records).toHaveLength(published);
    expect(new Set(records.map((r) => r.metrics.DCGM_FI_DEV_SM_CLOCK)).size).toBeGreaterThanOrEqual(3);
  });

  it('names GPUs by a file_sd hostname label when the exporter does not', async () => {
    const { bus, records } = captureBus('gpu_samples');
    const target = await exporter(() => 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-x"} 50\n');
    const scraper = new DcgmScraper({ bus, targets: [{ url: target, labels: { hostname: 'node-9', rack: 'b' } }], logger: silent });
    await scraper.scrapeAll();
    await bus.drain();
    expect(records.map((g) => g.gpu)).toEqual(['node-9/gpu-0']);
  });

  it('normalises target spellings', () => {
    expect(normaliseTarget('node-0:9400')).toBe('http://node-0:9400/metrics');
    expect(normaliseTarget('https://gpu.example/custom')).toBe('https://gpu.example/custom');
  });
});
