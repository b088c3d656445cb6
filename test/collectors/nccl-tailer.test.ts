import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NcclTailer } from '../../collectors/nccl/nccl-tailer.js';
import { MemoryBus } from '../../pipeline/memory-bus.js';
import type { CollectiveEvent } from '../../core/records.js';
import { captureBus } from './bus-capture.js';
import { collLine, p2pLine } from './nccl-fixtures.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fabricscope-nccl-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('NCCL Inspector directory tailer', () => {
  it('publishes new complete lines, holding back a partial last line until it is finished', async () => {
    const { bus, records } = captureBus('collective_events');
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    const file = join(dir, 'node-0-pid4242.log');
    const third = collLine({ sn: 2 });
    writeFileSync(file, `${collLine({ sn: 0 })}\n${p2pLine()}\n${collLine({ sn: 1 })}\n${third.slice(0, 40)}`);
    expect(await tailer.poll()).toBe(2);
    expect(await tailer.poll()).toBe(0);
    appendFileSync(file, `${third.slice(40)}\n`);
    expect(await tailer.poll()).toBe(1);
    await bus.drain();
    expect(records.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(tailer.stats()).toMatchObject({ received: 4, published: 3, p2p_skipped: 1, rejected: 0, files: 1 });
  });

  it('reads every rank file, in subdirectories too, and ignores other files', async () => {
    const { bus, records } = captureBus('collective_events');
    mkdirSync(join(dir, 'job-17'));
    writeFileSync(join(dir, 'node-0-pid1.log'), `${collLine({ rank: 0 })}\n`);
    writeFileSync(join(dir, 'job-17', 'node-1-pid2.jsonl'), `${collLine({ rank: 8 })}\n`);
    writeFileSync(join(dir, 'notes.txt'), `${collLine({ rank: 3 })}\n`);
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    expect(await tailer.poll()).toBe(2);
    await bus.drain();
    expect(records.map((e) => [e.rank, e.host]).sort()).toEqual([[0, 'node-0'], [8, 'node-1']]);
  });

  it('starts again from the top of a truncated or rotated file', async () => {
    const { bus, records } = captureBus('collective_events');
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    const file = join(dir, 'node-0-pid7.log');
    writeFileSync(file, `${collLine({ sn: 0 })}\n${collLine({ sn: 1 })}\n`);
    expect(await tailer.poll()).toBe(2);
    truncateSync(file, 0);
    appendFileSync(file, `${collLine({ sn: 10 })}\n`);
    expect(await tailer.poll()).toBe(1);
    renameSync(file, `${file}.1`);
    writeFileSync(file, `${collLine({ sn: 20 })}\n${collLine({ sn: 21 })}\n${collLine({ sn: 22 })}\n`);
    expect(await tailer.poll()).toBe(3);
    await bus.drain();
    expect(records.map((e) => e.seq)).toEqual([0, 1, 10, 20, 21, 22]);
    expect(tailer.stats()).toMatchObject({ truncations: 1, rotations: 1 });
  });

  it('notices a file rewritten past the old read position between two polls', async () => {
    const { bus, records } = captureBus('collective_events');
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    const file = join(dir, 'node-0-pid8.log');
    writeFileSync(file, `${collLine({ sn: 0, start: 1 })}\n`);
    expect(await tailer.poll()).toBe(1);
    writeFileSync(file, [30, 31, 32].map((sn) => collLine({ sn })).join('\n') + '\n');
    expect(await tailer.poll()).toBe(3);
    await bus.drain();
    expect(records.map((e) => e.seq)).toEqual([0, 30, 31, 32]);
  });

  it('counts and reports malformed lines, and goes on', async () => {
    const { bus, records } = captureBus('collective_events');
    writeFileSync(join(dir, 'node-0-pid9.log'), `${collLine({ sn: 0 })}\nnot json\n{"header":{}}\n${collLine({ sn: 1 })}\n`);
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    expect(await tailer.poll()).toBe(2);
    await bus.drain();
    expect(records).toHaveLength(2);
    expect(tailer.stats()).toMatchObject({ received: 4, rejected: 2, published: 2 });
  });

  it('reads gzipped logs once', async () => {
    const { bus, records } = captureBus('collective_events');
    writeFileSync(join(dir, 'node-1-pid3.log.gz'), gzipSync(`${collLine({ sn: 0 })}\n${collLine({ sn: 1 })}`));
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    expect(await tailer.poll()).toBe(2);
    expect(await tailer.poll()).toBe(0);
    await bus.drain();
    expect(records).toHaveLength(2);
  });

  it('retries the same lines after the bus pushed back, losing nothing', async () => {
    const bus = new MemoryBus({ capacity: 1, publishWaitMs: 0 });
    const records: CollectiveEvent[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bus.subscribe('collective_events', 'slow', async (batch) => {
      await gate;
      records.push(...batch);
    });
    const file = join(dir, 'node-0-pid5.log');
    writeFileSync(file, `${collLine({ sn: 0 })}\n`);
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    expect(await tailer.poll()).toBe(1);
    appendFileSync(file, `${collLine({ sn: 1 })}\n${collLine({ sn: 2 })}\n`);
    expect(await tailer.poll()).toBe(0); // bus full: nothing consumed
    expect(tailer.stats().backpressured).toBe(1);
    release();
    await bus.drain();
    expect(await tailer.poll()).toBe(2);
    await bus.drain();
    expect(records.map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it('hands the lines of every file read in one poll downstream as one batch', async () => {
    const bus = new MemoryBus();
    const batches: number[][] = [];
    bus.subscribe('collective_events', 'test', async (batch) => {
      batches.push(batch.map((e) => e.rank));
    });
    for (const rank of [0, 1, 2]) writeFileSync(join(dir, `node-0-pid${rank}.log`), `${collLine({ rank, sn: 0 })}\n${collLine({ rank, sn: 1 })}\n`);
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    expect(await tailer.poll()).toBe(6);
    await bus.drain();
    expect(batches).toEqual([[0, 0, 1, 1, 2, 2]]);
    // Files that did not change give nothing; one that grew gives its new line.
    appendFileSync(join(dir, 'node-0-pid1.log'), `${collLine({ rank: 1, sn: 2 })}\n`);
    expect(await tailer.poll()).toBe(1);
    expect(await tailer.poll()).toBe(0);
    await bus.drain();
    expect(batches).toEqual([[0, 0, 1, 1, 2, 2], [1]]);
  });

  it('polls on a timer, and stop() publishes what is left', async () => {
    const { bus, records } = captureBus('collective_events');
    const file = join(dir, 'node-0-pid6.log');
    writeFileSync(file, `${collLine({ sn: 0 })}\n`);
    const tailer = new NcclTailer({ bus, dir, logger: silent });
    tailer.start(20);
    while (tailer.stats().published < 1) await new Promise((r) => setTimeout(r, 5));
    appendFileSync(file, `${collLine({ sn: 1 })}\n`);
    await tailer.stop();
    await bus.drain();
    expect(records.map((e) => e.seq)).toEqual([0, 1]);
  });

  it('treats a directory that does not exist yet as empty', async () => {
    const { bus } = captureBus('collective_events');
    const tailer = new NcclTailer({ bus, dir: join(dir, 'later'), logger: silent });
    expect(await tailer.poll()).toBe(0);
  });
});
