/**
 * PyTorch Flight Recorder JSON dumps: the tutorial's dump (version 2.5, its tuple as a JSON
 * list), by directory and by HTTP POST, with re-read and overlapping dumps published once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { convertFlightRecorderDump } from '../../collectors/nccl/flight-recorder.js';
import { FlightRecorderCollector } from '../../collectors/nccl/flight-recorder-collector.js';
import { OtlpReceiver } from '../../collectors/otlp/otlp-receiver.js';
import { captureBus } from './bus-capture.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

const T = 1_724_779_239_936_775_119;

/** A dump of `entries` collectives of one rank (entry n: seq n + 1, 1 ms apart, 0.5 ms long). */
function dump(from: number, to: number, options: { lastState?: string; rank?: number } = {}) {
  const entries = [];
  for (let n = from; n < to; n++) {
    const created = T + n * 1_000_000;
    entries.push({
      frames: [{ name: 'test_short_pickle', filename: 'pytorch/test/distributed/test_c10d_nccl.py', line: 3647 }],
      record_id: n, pg_id: 0, process_group: ['0', 'default_pg'], collective_seq_id: n + 1, p2p_seq_id: 0, op_id: n + 1,
      profiling_name: 'nccl:all_reduce', time_created_ns: created,
      input_sizes: [[3, 4]], input_dtypes: ['Float'], output_sizes: [[3, 4]], output_dtypes: ['Float'],
      state: n === to - 1 && options.lastState ? options.lastState : 'completed',
      time_discovered_started_ns: null, time_discovered_completed_ns: n === to - 1 && options.lastState ? null : created + 500_000,
      retired: true, timeout_ms: 600000, is_p2p: false,
    });
  }
  entries.push({ ...entries[0]!, record_id: 99, profiling_name: 'nccl:send 0->1', is_p2p: true });
  return {
    version: '2.5',
    ...(options.rank === undefined ? {} : { rank: options.rank }),
    pg_config: { 0: { name: '0', desc: 'default_pg', ranks: '[0, 1]' } },
    pg_status: { 0: { last_enqueued_collective: to, last_started_collective: -1, last_completed_collective: to } },
    entries,
  };
}

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'fabricscope-fr-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Flight Recorder dumps', () => {
  it('turns completed collectives into CollectiveEvents', () => {
    const r = convertFlightRecorderDump(dump(0, 2), { rank: 1, host: 'node-1', source: 'nccl_trace_rank_1' });
    expect(r).toMatchObject({ skipped: 1, incomplete: 0, errors: [], entries: 3 });
    expect(r.events[0]).toMatchObject({
      job: 'default_pg', comm_id: 'default_pg/pg0', rank: 1, n_ranks: 2, host: 'node-1', collective: 'AllReduce', seq: 1,
      msg_bytes: 48, exec_time_us: 500,
    });
    expect(r.events[0]!.end_us).toBeCloseTo((T + 500_000) / 1000, 0);
    expect(r.events[0]!.busbw_gbs).toBeCloseTo(r.events[0]!.algbw_gbs, 9); // 2 ranks: factor 1
    expect(() => convertFlightRecorderDump(dump(0, 1), { source: 'body' })).toThrow(/body: rank: the dumping rank is unknown/);
    const bad = dump(0, 1);
    (bad.entries[0] as Record<string, unknown>).time_created_ns = 'yesterday';
    (bad.entries[0] as Record<string, unknown>).time_discovered_completed_ns = null;
    (bad.entries[0] as Record<string, unknown>).duration_ms = 1;
    expect(convertFlightRecorderDump(bad, { rank: 0, source: 'f' }).errors.map((e) => e.message)).toEqual(['f: entries[0].time_created_ns: not a time in nanoseconds']);
  });

  it('reads dump files as they change, and publishes each collective once', async () => {
    const { bus, records } = captureBus('collective_events');
    const collector = new FlightRecorderCollector({ bus, dir, logger: silent });
    mkdirSync(join(dir, 'node-0'));
    const file = join(dir, 'node-0', 'nccl_trace_rank_0');
    writeFileSync(file, JSON.stringify(dump(0, 3, { lastState: 'started' })));
    expect(await collector.poll()).toBe(2); // the third is not complete yet
    expect(await collector.poll()).toBe(0); // unchanged
    writeFileSync(file, JSON.stringify(dump(1, 5)) + ' '); // the ring moved on: seq 2..5, 3 now completed
    expect(await collector.poll()).toBe(3);
    writeFileSync(join(dir, 'nccl_trace_rank_1.json'), JSON.stringify(dump(0, 2)));
    writeFileSync(join(dir, 'nccl_trace_rank_2'), Buffer.from([0x80, 0x04, 0x95])); // a pickle: not read
    expect(await collector.poll()).toBe(2);
    await bus.drain();
    expect(records.map((e) => [e.host, e.rank, e.seq])).toEqual([
      ['node-0', 0, 1], ['node-0', 0, 2], ['node-0', 0, 3], ['node-0', 0, 4], ['node-0', 0, 5], ['unknown', 1, 1], ['unknown', 1, 2],
    ]);
    expect(collector.stats()).toMatchObject({ dumps: 3, published: 7, duplicates: 1, incomplete: 1, skipped: 3 });
  });

  it('takes dumps posted to the OTLP/HTTP receiver, answering what was new', async () => {
    const { bus, records } = captureBus('collective_events');
    const receiver = new OtlpReceiver({ bus, port: 0, logger: silent });
    await receiver.start();
    try {
      const post = (body: unknown, query = '') =>
        fetch(`${receiver.url}/v1/flight-recorder${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const first = await post(dump(0, 3), '?rank=0&host=node-4');
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ accepted: 3, duplicates: 0, skipped: 1, incomplete: 0, rejected: 0, errors: [] });
      const again = await post(dump(0, 3), '?rank=0&host=node-4');
      expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 3 });
      const noRank = await post(dump(0, 1));
      expect(noRank.status).toBe(400);
      expect((await noRank.json()).error.message).toMatch(/^body: rank: the dumping rank is unknown/);
      const withRank = await post(dump(0, 1, { rank: 1 }));
      expect(await withRank.json()).toMatchObject({ accepted: 1 });
      const notJson = await fetch(`${receiver.url}/v1/flight-recorder?rank=0`, { method: 'POST', body: '{"entries": [' });
      expect(notJson.status).toBe(400);
      await bus.drain();
      expect(records.map((e) => [e.host, e.rank, e.seq])).toEqual([['node-4', 0, 1], ['node-4', 0, 2], ['node-4', 0, 3], ['unknown', 1, 1]]);
    } finally {
      await receiver.stop();
    }
  });
});
