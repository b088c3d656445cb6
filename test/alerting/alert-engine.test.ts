import { describe, expect, test } from 'vitest';
import { AlertEngine } from '../../alerting/alert-engine.js';
import { parseRules } from '../../alerting/rule-file.js';
import { isStallProgress, type Alert, type CollectiveEvent, type PortSample, type Stall, type StallStreamRecord } from '../../core/records.js';
import { Topology } from '../../core/topology.js';

const T0 = Date.UTC(2026, 0, 1);
const topology = new Topology({ nodes: 4, gpus_per_node: 4, leaves: 2, spines: 2, link_gbps: 400 });
const RULES = parseRules(
  `evaluation_interval: 1s
rules:
  - name: PfcPauseStorm
    condition: { kind: pfc_pause_fraction, window: 1s, fraction: 0.5 }
    for: 1s
    annotations: { summary: "{{ $labels.port }} paused {{ $value | humanizePercentage }}" }
  - name: PortQueueingDelay
    condition: { kind: port_queueing_delay, window: 1s, us: 10 }
  - name: CollectiveLatencyBudget
    condition: { kind: collective_latency_budget, window: 2s, ratio_to_baseline: 1.5, baseline_calls: 5, min_calls: 2 }
`,
  'test.yaml',
);

/** leaf-0/p4 paused 90% of the time (and queueing 1 MB) from 3 s to 6 s; a 10 s trace at 100 ms. */
function portSamples(): PortSample[] {
  const out: PortSample[] = [];
  for (let ms = 100; ms <= 10_000; ms += 100) {
    for (const port of ['leaf-0/p4', 'leaf-0/p5']) {
      const storm = port === 'leaf-0/p4' && ms > 3_000 && ms <= 6_000;
      out.push({
        ts_ms: T0 + ms,
        port,
        device: 'leaf-0',
        interval_ms: 100,
        queue_bytes: storm ? 1_000_000 : 1_000,
        tx_bytes: 1e6,
        ecn_marked_pkts: 0,
        pfc_tx_pause_frames: 0,
        pfc_rx_pause_frames: storm ? 500 : 0,
        pfc_rx_pause_us: storm ? 90_000 : 0,
        credit_stall_us: 0,
        link_errors: 0,
        oper_up: true,
      });
    }
  }
  return out;
}

/** Two ranks of one job, a call every 100 ms lasting 20 ms, 60 ms from 5 s to 7 s. */
function collectiveEvents(): CollectiveEvent[] {
  const out: CollectiveEvent[] = [];
  for (let seq = 0; seq < 100; seq++) {
    const startMs = seq * 100;
    const slow = startMs >= 5_000 && startMs < 7_000;
    for (const rank of [0, 1]) {
      const start_us = (T0 + startMs) * 1000;
      const end_us = start_us + (slow ? 60_000 : 20_000);
      out.push({ job: 'train-a', comm_id: 'c', rank, n_ranks: 2, host: `node-${rank}`, collective: 'AllReduce', seq, msg_bytes: 1 << 20, start_us, end_us, exec_time_us: end_us - start_us, algbw_gbs: 1, busbw_gbs: 1 });
    }
  }
  return out;
}

/** Feeds the records in `batches` (advancing after each) and returns every changed alert version. */
function play(batches: Array<{ ports?: PortSample[]; calls?: CollectiveEvent[] }>): Alert[] {
  const engine = new AlertEngine({ rules: RULES, topology, settleMs: 500 });
  const out: Alert[] = [];
  const take = (evs: ReturnType<AlertEngine['advance']>) => {
    for (const ev of evs) out.push(...ev.alerts.filter((a) => a.changed).map((a) => a.record));
  };
  for (const b of batches) {
    if (b.ports) engine.addPortSamples(b.ports);
    if (b.calls) engine.addCollectiveEvents(b.calls);
    take(engine.advance());
  }
  take(engine.flush());
  return out;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

describe('alert engine on event time', () => {
  const reference = play([{ ports: portSamples(), calls: collectiveEvents() }]);

  test('pending → firing → resolved at event-time ticks; detection within for + two intervals', () => {
    const pfc = reference.filter((a) => a.rule === 'PfcPauseStorm').map((a) => [a.state, a.updated_ms - T0, a.labels.port]);
    // The storm starts after 3 s: the 4 s tick sees a fully paused window → pending; firing 1 s later.
    expect(pfc).toEqual([
      ['pending', 4_000, 'leaf-0/p4'],
      ['firing', 5_000, 'leaf-0/p4'],
      ['resolved', 7_000, 'leaf-0/p4'],
    ]);
    const firing = reference.find((a) => a.rule === 'PfcPauseStorm' && a.state === 'firing')!;
    expect(firing.updated_ms - (T0 + 3_000)).toBeLessThanOrEqual(1_000 + 1_000 + 2 * 1_000);
    expect(firing.annotations.summary).toBe('leaf-0/p4 paused 90%');
    // Queueing delay: 1 MB at 400 Gb/s = 20 µs.
    const queue = reference.find((a) => a.rule === 'PortQueueingDelay' && a.state === 'firing')!;
    expect(queue.value).toBeCloseTo(20, 5);
    // The job's calls triple from 5 s to 7 s: over budget against its learned baseline.
    const budget = reference.filter((a) => a.rule === 'CollectiveLatencyBudget').map((a) => [a.state, a.updated_ms - T0]);
    expect(budget[0]).toEqual(['firing', 6_000]);
    expect(budget.at(-1)![0]).toBe('resolved');
  });

  test('the same records in any batching and interleaving give the same alerts, ids and times', () => {
    const ports = portSamples();
    const calls = collectiveEvents();
    const small = chunks(ports, 7).map((p, i) => ({ ports: p, calls: chunks(calls, 5)[i] }));
    const rest = chunks(calls, 5).slice(small.length).map((c) => ({ calls: c }));
    expect(play([...small, ...rest])).toEqual(reference);
    // Devices interleaved differently within each 100 ms, calls in big late batches.
    const shuffled = chunks(ports, 2).map((p) => ({ ports: [...p].reverse() }));
    expect(play([...shuffled.slice(0, 40), { calls: calls.slice(0, 120) }, ...shuffled.slice(40), { calls: calls.slice(120) }])).toEqual(reference);
  });

  test('an engine rebuilding by replay, fed one partition far ahead of the others, waits for the bus and gives the same alerts', () => {
    // What a standby taking the alert rules over sees: the calls and one switch's samples arrive
    // from where the previous owner stopped, the rest replayed from the start afterwards.
    const ports = portSamples();
    const calls = collectiveEvents();
    const late = (p: PortSample) => p.ts_ms > T0 + 8_000;
    const backlog = { port: ports.filter((p) => !late(p)), collective: calls.filter((c) => c.end_us / 1000 <= T0 + 8_000) };
    const engine = new AlertEngine({
      rules: RULES,
      topology,
      settleMs: 500,
      waiting: (stream) => (stream === 'port' ? backlog.port.length > 0 : stream === 'collective' ? backlog.collective.length > 0 : false),
    });
    const out: Alert[] = [];
    const take = (evs: ReturnType<AlertEngine['advance']>) => {
      for (const ev of evs) out.push(...ev.alerts.filter((a) => a.changed).map((a) => a.record));
    };
    engine.addPortSamples(ports.filter(late));
    take(engine.advance());
    engine.addCollectiveEvents(calls.filter((c) => c.end_us / 1000 > T0 + 8_000));
    take(engine.advance());
    expect(out).toEqual([]);
    for (const stream of ['port', 'collective'] as const) {
      while (backlog[stream].length > 0) {
        const batch = backlog[stream].splice(0, 13);
        if (stream === 'port') engine.addPortSamples(batch as PortSample[]);
        else engine.addCollectiveEvents(batch as CollectiveEvent[]);
        take(engine.advance());
      }
    }
    take(engine.flush());
    expect(out).toEqual(reference);
  });

  test('a tick is judged on stalls only once every live job\'s stall progress has passed it: a lagging correlator delays alerts, never changes them', () => {
    const rules = parseRules(
      `evaluation_interval: 1s
rules:
  - name: StragglerGpu
    condition: { kind: straggler_gpu, window: 2s, min_stalls: 3 }
`,
      'straggler.yaml',
    );
    const calls = collectiveEvents();
    // The slow calls (5 s to 7 s) blamed on one GPU: stalls, each with its job's progress after it.
    const stallOf = (seq: number): Stall => {
      const start_ms = T0 + seq * 100;
      return {
        id: `train-a:${seq}`,
        job: 'train-a',
        collective: 'AllReduce',
        seq,
        start_ms,
        end_ms: start_ms + 60,
        duration_us: 60_000,
        expected_us: 20_000,
        slowest_rank: 1,
        ranks: [],
        root_cause: { kind: 'straggler_gpu', location: 'node-1/gpu-0', confidence: 0.9, evidence: [] },
      };
    };
    const stream: StallStreamRecord[] = [];
    for (let seq = 0; seq < 100; seq++) {
      if (seq >= 50 && seq < 70) stream.push(stallOf(seq));
      stream.push({ job: 'train-a', through_ms: T0 + seq * 100 + 20 });
    }
    const run = (stallsLate: boolean) => {
      const engine = new AlertEngine({ rules, topology, settleMs: 500 });
      const out: Alert[] = [];
      const take = (evs: ReturnType<AlertEngine['advance']>) => {
        for (const ev of evs) out.push(...ev.alerts.filter((a) => a.changed).map((a) => a.record));
      };
      for (let seq = 0; seq < 100; seq++) {
        engine.addCollectiveEvents(calls.filter((c) => c.seq === seq));
        if (!stallsLate) engine.addStalls(stream.filter((r) => (isStallProgress(r) ? r.through_ms - T0 - 20 : r.start_ms - T0) === seq * 100));
        take(engine.advance());
      }
      const before = out.length;
      if (stallsLate) engine.addStalls(stream); // the correlator took the job over and replayed it
      take(engine.advance());
      take(engine.flush());
      return { out, before };
    };
    const onTime = run(false);
    const late = run(true);
    expect(onTime.out.map((a) => [a.state, a.updated_ms - T0])).toEqual([
      ['firing', 6_000],
      ['resolved', 9_000],
    ]);
    expect(late.before).toBe(0); // nothing judged while the job's stalls were not vouched for
    expect(late.out).toEqual(onTime.out);
  });
});

describe('port queueing delay', () => {
  /** leaf-0/p4 through a 6 s incast whose queue fills and drains within every 100 ms: the polled instant always lands empty. */
  function burstySamples(withHistogramMean: boolean): PortSample[] {
    const out: PortSample[] = [];
    for (let ms = 100; ms <= 8_000; ms += 100) {
      const incast = ms > 1_000 && ms <= 7_000;
      out.push({
        ts_ms: T0 + ms, port: 'leaf-0/p4', device: 'leaf-0', interval_ms: 100,
        queue_bytes: 0,
        ...(withHistogramMean ? { queue_mean_bytes: incast ? 1_000_000 : 500 } : {}),
        tx_bytes: 5e9, ecn_marked_pkts: incast ? 5_000 : 0, pfc_tx_pause_frames: 0, pfc_rx_pause_frames: 0, pfc_rx_pause_us: 0, credit_stall_us: 0, link_errors: 0, oper_up: true,
      });
    }
    return out;
  }
  const queueing = (ports: PortSample[]) => play([{ ports }]).filter((a) => a.rule === 'PortQueueingDelay').map((a) => [a.state, a.updated_ms - T0]);

  test('judges each interval by its histogram mean when the switch exports one, not by the polled instant', () => {
    // 1 MB at 400G is 20 µs of delay, over the rule's 10 µs (it has no `for`).
    expect(queueing(burstySamples(true))).toEqual([
      ['firing', 2_000],
      ['resolved', 8_000],
    ]);
    expect(queueing(burstySamples(false))).toEqual([]);
  });
});
