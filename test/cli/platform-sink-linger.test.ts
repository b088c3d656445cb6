/**
 * The embedded platform's sink gathers telemetry for --sink-linger-ms before one insert (fewer,
 * larger inserts cost chDB far less CPU). The pipeline builds that sink, so the setting has to
 * reach it: once it did not, and every publish became an insert of its own.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform } from '../../cli/platform.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import type { Topic } from '../../core/records.js';
import { tempDir } from '../harness/cli-process.js';
import { portSample } from '../pipeline/fixtures.js';

const sample = (i: number) => portSample('leaf-0/p1', Date.UTC(2026, 0, 1) + i * 100, { tx_bytes: 1_000 });

describe('platform sink linger', () => {
  let platform: Platform | undefined;
  let data: string | undefined;
  afterEach(async () => {
    await platform?.stop();
    if (data) rmSync(data, { recursive: true, force: true });
  });

  it('holds published telemetry for the configured linger, and a drain still stores it', async () => {
    data = tempDir('sink-linger');
    const config = loadConfig({
      flags: { scenario: 'examples/demo.yaml', speed: 'max', data, otlp_http_port: 0, otlp_grpc_port: 0, log_level: 'warn', sink_linger_ms: 60_000 },
      env: {},
    });
    platform = await Platform.start(config, createLogger('warn'), { withApi: false });
    const { store, bus } = platform.parts;
    // Watch the real store's inserts (the sink calls store.insert as it starts a write).
    const inserted: Topic[] = [];
    const insert = store.insert.bind(store);
    store.insert = (topic, rows, options) => {
      inserted.push(topic);
      return insert(topic, rows, options);
    };

    // A handler without linger is called within publish, so its insert would be recorded here.
    await bus!.publish('port_samples', [sample(0), sample(1), sample(2)]);
    expect(inserted).not.toContain('port_samples');

    await bus!.drain();
    expect(inserted).toContain('port_samples');
    expect((await store.counts()).port_samples).toBe(3);
  });
});
