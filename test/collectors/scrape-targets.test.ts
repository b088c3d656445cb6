/**
 * dcgm targets files: the accepted forms, errors naming line and column, and a watched file
 * re-read on change (edits in place and rename-into-place), a bad edit keeping the old list.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { CollectorService } from '../../collectors/collector-service.js';
import { parseScrapeTargets, ScrapeTargetsFile, type ScrapeTarget } from '../../collectors/scrape-targets.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';

const warnings: string[] = [];
const logger = {
  debug() {},
  info() {},
  warn(msg: string, fields?: Record<string, unknown>) {
    warnings.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  },
  error() {},
  child() {
    return logger;
  },
};

/** Waits for a condition (the watcher works on its own time); fails with `what` after 20 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fabricscope-targets-'));
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('targets file formats', () => {
  it('reads URL lines with comments, lists and file_sd groups with labels', () => {
    expect(parseScrapeTargets('# GPU nodes\nnode-0:9400\n\nhttp://node-1:9400/metrics  # rack b\n', 't.txt')).toEqual([
      { url: 'http://node-0:9400/metrics', labels: {} },
      { url: 'http://node-1:9400/metrics', labels: {} },
    ]);
    const fileSd = JSON.stringify([{ targets: ['node-2:9400', 'node-3:9400'], labels: { hostname: 'node-2', rack: 'a' } }, 'node-4:9400']);
    expect(parseScrapeTargets(fileSd, 't.json').map((t) => [t.url, t.labels.rack])).toEqual([
      ['http://node-2:9400/metrics', 'a'],
      ['http://node-3:9400/metrics', 'a'],
      ['http://node-4:9400/metrics', undefined],
    ]);
    expect(parseScrapeTargets('- targets: [node-5:9400]\n  labels: {node: node-5}\n', 't.yaml')).toEqual([
      { url: 'http://node-5:9400/metrics', labels: { node: 'node-5' } },
    ]);
  });

  it('names the line and column of what is wrong', () => {
    const err = (text: string, file: string) => {
      try {
        parseScrapeTargets(text, file);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err('node-0:9400\nhttp://[bad\n', 't.txt')).toBe('t.txt:2: "http://[bad" is not a URL or host:port');
    expect(err('[{"targets": ["a:1"]},\n {"targets": "b:1"}]', 't.json')).toBe('t.json:2:2: entry 1: "targets" must be a list of strings');
    expect(err('[{"targets": ["a:1"]}, {"targets": ["b:1"],]', 't.json')).toMatch(/^t\.json:1:\d+: not valid YAML or JSON/);
    expect(err('- targets: [a:1]\n  labels: {rack: 3}\n', 't.yaml')).toBe('t.yaml:1:3: entry 0: "labels" must map names to strings');
  });
});

describe('watched targets file', () => {
  it('re-reads the file on change, keeps the old targets on a bad edit, and sees a rename into place', async () => {
    const file = join(dir, 'targets.json');
    writeFileSync(file, JSON.stringify([{ targets: ['node-0:9400'] }]));
    let current: ScrapeTarget[] = [];
    const watched = new ScrapeTargetsFile({ file, logger, checkIntervalMs: 100, onChange: (t) => (current = t) });
    current = watched.start();
    try {
      expect(current.map((t) => t.url)).toEqual(['http://node-0:9400/metrics']);

      writeFileSync(file, JSON.stringify([{ targets: ['node-0:9400', 'node-1:9400'], labels: { rack: 'b' } }]));
      await until('the edit to be read', () => current.length === 2);
      expect(current[1]).toEqual({ url: 'http://node-1:9400/metrics', labels: { rack: 'b' } });

      // Written aside and renamed over (atomically), so no half-written state is ever read.
      const aside = join(dir, '.targets.json.tmp');
      writeFileSync(aside, '[{"targets": ["node-7:9400"]}, {"targets": 7}]');
      renameSync(aside, file);
      await until('the bad edit to be reported', () => watched.failures > 0);
      expect(current).toHaveLength(2);
      expect(warnings.join('\n')).toContain(`${file}:1:32: entry 1: \\"targets\\" must be a list of strings`);

      // A list in another format, the same way.
      writeFileSync(aside, 'node-9:9400\n');
      renameSync(aside, file);
      await until('the renamed file to be read', () => current.length === 1);
      expect(current[0]!.url).toBe('http://node-9:9400/metrics');
    } finally {
      await watched.stop();
    }
  });

  it('drives the scraper of a collector service', async () => {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, 'node-0:9400\n');
    const service = new CollectorService({
      bus: new MemoryBus(),
      logger,
      otlp: false,
      scrape: { targets: ['static-0:9400'], file, fileCheckIntervalMs: 100 },
    });
    await service.start();
    try {
      service.addScrapeTargets(['http://127.0.0.1:1/metrics']);
      expect(service.dcgm!.targetUrls).toEqual(['http://static-0:9400/metrics', 'http://node-0:9400/metrics', 'http://127.0.0.1:1/metrics']);
      writeFileSync(file, 'node-1:9400\nnode-2:9400\n');
      await until('the scraper to get the new targets', () => service.dcgm!.targetUrls.length === 4);
      expect(service.dcgm!.targetUrls).toEqual([
        'http://static-0:9400/metrics', 'http://node-1:9400/metrics', 'http://node-2:9400/metrics', 'http://127.0.0.1:1/metrics',
      ]);
    } finally {
      await service.stop();
    }
  });
});
