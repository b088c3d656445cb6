import { describe, expect, it } from 'vitest';
import { parseInspectorLine, parseInspectorLines } from '../../collectors/nccl/inspector-record.js';
import { collLine, p2pLine, T0_US } from './nccl-fixtures.js';

describe('NCCL Inspector records', () => {
  it('turns a verbose coll_perf record into a CollectiveEvent timed by event_trace_ts', () => {
    const r = parseInspectorLine(collLine({ rank: 9, sn: 2 }), 'x.log line 1');
    expect(r).toEqual({
      kind: 'collective',
      event: {
        job: 'train-a', comm_id: '0x7f3a9c1e2b4d5a60', rank: 9, n_ranks: 16, host: 'node-1', collective: 'AllReduce', seq: 2,
        msg_bytes: 268435456, start_us: T0_US + 100_000, end_us: T0_US + 100_000 + 1234.5, exec_time_us: 1234.5,
        algbw_gbs: 217.456789, busbw_gbs: 407.731479,
      },
    });
  });

  it('places a non-verbose record as ending at dump_timestamp_us', () => {
    const r = parseInspectorLine(collLine({ verbose: false, execUs: 1000 }), 'x');
    if (r.kind !== 'collective') throw new Error('expected a collective');
    expect(r.event.end_us - r.event.start_us).toBe(1000);
    expect(r.event.end_us).toBe(T0_US + 1000 + 200);
  });

  it('reads "nan" as NaN, and refuses it where the event could not be timed', () => {
    const withTrace = parseInspectorLine(collLine({ execUs: 'nan', busbw: 'nan' }), 'x');
    if (withTrace.kind !== 'collective') throw new Error('expected a collective');
    expect(Number.isNaN(withTrace.event.busbw_gbs)).toBe(true);
    expect(withTrace.event.exec_time_us).toBe(1000); // from the trace timestamps
    expect(() => parseInspectorLine(collLine({ execUs: 'nan', verbose: false }), 'r.log line 4')).toThrow(
      'r.log line 4: coll_perf.coll_exec_time_us: is nan and there is no event_trace_ts to time the collective',
    );
  });

  it('skips p2p records and names the field of malformed ones', () => {
    const bad = JSON.parse(collLine()) as any;
    bad.header.rank = 'zero';
    const missing = JSON.parse(collLine()) as any;
    delete missing.coll_perf.coll_sn;
    const text = [collLine(), p2pLine(), '', JSON.stringify(bad), '{"header": ', JSON.stringify(missing), collLine({ sn: 1 })].join('\n');
    const batch = parseInspectorLines(text, 'node-0-pid4242.log');
    expect(batch.lines).toBe(6);
    expect(batch.events.map((e) => e.seq)).toEqual([0, 1]);
    expect(batch.p2p).toBe(1);
    expect(batch.errors.map((e) => e.message)).toEqual([
      'node-0-pid4242.log line 4: header.rank: not an integer',
      expect.stringMatching(/^node-0-pid4242.log line 5: not valid JSON/),
      'node-0-pid4242.log line 6: coll_perf.coll_sn: missing',
    ]);
  });
});
