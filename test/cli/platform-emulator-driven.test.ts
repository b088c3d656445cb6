/**
 * In real time, an embedded emulator's GPU intervals drive the dcgm scrapes and NCCL reads: each
 * update of the emulated nodes is read once, as soon as it is there. A scrape timer of the same
 * period, out of phase with the emulated nodes, read each update up to an interval late (part of
 * the detection latency), and at another speed read some intervals twice and missed others.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform } from '../../cli/platform.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { tempDir } from '../harness/cli-process.js';

const GPUS = 16;
const SIMULATED_S = 3;
const SCENARIO = `name: emulator-driven
seed: 3
duration_s: ${SIMULATED_S}
telemetry: { switch_interval_ms: 100, gpu_interval_ms: 1000 }
topology: { nodes: 2, gpus_per_node: 8, leaves: 2, spines: 1, link_gbps: 400 }
jobs:
  - { id: train-a, nodes: all, collective: allreduce, message_bytes: 16777216, compute_ms: 20 }
faults: []
`;

describe('platform with an embedded emulator in real time', () => {
  let platform: Platform | undefined;
  let data: string | undefined;
  afterEach(async () => {
    await platform?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  it('scrapes every GPU interval exactly once and reads the NCCL files in step', async () => {
    data = tempDir('emulator-driven');
    const scenario = join(data, 'scenario.yaml');
    writeFileSync(scenario, SCENARIO);
    // Speed 4: GPU intervals every 250 ms of wall time, where the 1 s scrape timer read one in four.
    const config = loadConfig({
      flags: { scenario, speed: '4', data, otlp_http_port: 0, otlp_grpc_port: 0, log_level: 'warn' },
      env: {},
    });
    platform = await Platform.start(config, createLogger('warn'), { withApi: false });
    await platform.play();
    await platform.finish();

    const stats = platform.parts.collectors!.stats();
    // One scrape of each node per GPU interval (t = 1 s … 3 s), no more, no fewer.
    expect(stats.dcgm?.scrapes).toBe(2 * SIMULATED_S);
    expect(stats.dcgm?.failed_scrapes).toBe(0);
    const counts = await platform.parts.store.counts();
    expect(counts.gpu_samples).toBe(GPUS * SIMULATED_S);
    expect(counts.collective_events).toBeGreaterThan(0);
    expect(counts.collective_events).toBe(stats.nccl.published);
  }, 60_000);
});
