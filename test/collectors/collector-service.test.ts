import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CollectorService } from '../../collectors/collector-service.js';
import { loadConfig } from '../../core/config.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import type { Topic, TopicRecords } from '../../core/records.js';
import { collLine, p2pLine } from './nccl-fixtures.js';
import { switchPayload, zeroPort } from './otlp-fixtures.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
let dir: string;
let exporterServer: Server;
let exporterUrl: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fabricscope-collectors-'));
  exporterServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(
      'DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="GPU-a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="node-0"} 1980 1767225600000\n',
    );
  });
  await new Promise<void>((r) => exporterServer.listen(0, '127.0.0.1', r));
  exporterUrl = `http://127.0.0.1:${(exporterServer.address() as AddressInfo).port}/metrics`;
});
afterEach(async () => {
  exporterServer.closeAllConnections();
  await new Promise((r) => exporterServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function recordingBus() {
  const bus = new MemoryBus();
  const got: { [T in Topic]?: TopicRecords[T][] } = {};
  for (const topic of ['port_samples', 'gpu_samples', 'collective_events'] as const) {
    const list: TopicRecords[typeof topic][] = [];
    (got as Record<string, unknown[]>)[topic] = list;
    bus.subscribe(topic, 'test', async (batch) => {
      list.push(...(batch as never[]));
    });
  }
  return { bus, got };
}

describe('CollectorService', () => {
  it('runs the three collectors in lockstep and counts what each did', async () => {
    const { bus, got } = recordingBus();
    const service = new CollectorService({
      bus,
      logger: silent,
      otlp: { port: 0 },
      scrape: { targets: [exporterUrl] },
      nccl: { dir },
    });
    const { otlp } = await service.start();
    expect(otlp!.port).toBeGreaterThan(0);

    const metrics = await fetch(`${service.otlpUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(switchPayload('leaf-0', 1_767_225_600_000, { p0: zeroPort({ queue: 5 }) })),
    });
    expect(metrics.status).toBe(200);

    const report = await service.scrapeNow();
    expect(report.published).toBe(1);

    writeFileSync(join(dir, 'node-0-pid1.log'), `${collLine({ sn: 0 })}\n${p2pLine()}\n`);
    expect(await service.pollNcclNow()).toBe(1);

    const posted = await fetch(`${service.otlpUrl}/v1/nccl`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${collLine({ rank: 1, sn: 0 })}\n{"header": 1}\n`,
    });
    expect(posted.status).toBe(200);
    expect(await posted.json()).toMatchObject({ accepted: 1, rejected: 1, errors: ['body line 2: header: not an object'] });

    const refused = await fetch(`${service.otlpUrl}/v1/nccl`, { method: 'POST', body: '{"coll_perf": {}}' });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error.message).toBe('body line 1: header: missing');

    await service.stop();
    await bus.drain();
    expect(got.port_samples).toHaveLength(1);
    expect(got.gpu_samples).toHaveLength(1);
    expect(got.collective_events!.map((e) => e.rank).sort()).toEqual([0, 1]);

    const stats = service.stats();
    expect(stats.otlp).toMatchObject({ published: 1, rejected: 0, requests: 1 });
    expect(stats.dcgm).toMatchObject({ received: 1, published: 1 });
    expect(stats.nccl).toMatchObject({ received: 5, rejected: 2, published: 2, p2p_skipped: 1 });
  });

  it('builds itself from the platform config, lockstep at speed max', async () => {
    const { bus, got } = recordingBus();
    const targets = join(dir, 'targets.json');
    writeFileSync(targets, JSON.stringify([{ targets: [exporterUrl], labels: { rack: 'a' } }]));
    const config = loadConfig({ flags: { otlp_http_port: '0', scrape_file: targets, nccl_dir: dir, speed: 'max' } });
    const service = CollectorService.fromConfig(bus, config, { logger: silent });
    await service.start();
    expect((await service.scrapeNow()).targets.map((t) => t.url)).toEqual([exporterUrl]);
    await service.stop();
    await bus.drain();
    expect(got.gpu_samples).toHaveLength(1);
  });
});
