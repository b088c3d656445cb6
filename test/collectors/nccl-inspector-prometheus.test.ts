/**
 * NCCL Inspector Prometheus mode: hand-written exposition in the documented format (the
 * Inspector README's GB200 sample's labels), converted and scraped into CollectiveEvents.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../collectors/dcgm/prometheus-text.js';
import { bucketLowerBound, busFactor, InspectorPromConverter } from '../../collectors/nccl/inspector-prometheus.js';
import { NcclPromScraper } from '../../collectors/nccl/nccl-prom-scraper.js';
import { captureBus } from './bus-capture.js';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

const labels = (node: string, gpu: number, extra = '') =>
  `version="v5.1",slurm_job_id="4242",node="${node}",gpu="GPU${gpu}",comm_name="DP Group 0",n_nodes="2",nranks="8",collective="AllReduce",message_size="4-5GB",algo_proto="Ring_ll"${extra}`;

/** What the Inspector writes for one node: bus bandwidth and exec time per GPU, plus P2P. */
function nodeFile(node: string, execUs: (gpu: number) => number): string {
  const lines = ['# HELP nccl_bus_bandwidth_gbs NCCL bus bandwidth', '# TYPE nccl_bus_bandwidth_gbs gauge'];
  for (let g = 0; g < 4; g++) lines.push(`nccl_bus_bandwidth_gbs{${labels(node, g)}} ${(1e6 / execUs(g)).toFixed(3)}`);
  lines.push('# HELP nccl_collective_exec_time_microseconds NCCL collective execution time', '# TYPE nccl_collective_exec_time_microseconds gauge');
  for (let g = 0; g < 4; g++) lines.push(`nccl_collective_exec_time_microseconds{${labels(node, g)}} ${execUs(g)}`);
  lines.push(`nccl_p2p_bus_bandwidth_gbs{version="v5.1",slurm_job_id="4242",node="${node}",gpu="GPU0",comm_name="PP",n_nodes="2",nranks="8",p2p_operation="Send",message_size="1-2MB"} 40.5`);
  lines.push('node_textfile_scrape_error 0');
  return lines.join('\n') + '\n';
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
});

async function serve(body: () => string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body()));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

describe('NCCL Inspector Prometheus mode', () => {
  it('turns each series of a scrape into a CollectiveEvent: rank, window, message size and bandwidths', () => {
    const converter = new InspectorPromConverter(30_000);
    const t = 1_767_225_600_000;
    const a = converter.convert(parsePrometheusText(nodeFile('nvl72004-T01', (g) => 6_000 + g)).samples, t);
    const b = converter.convert(parsePrometheusText(nodeFile('nvl72004-T02', (g) => (g === 2 ? 9_000 : 6_000))).samples, t + 2_000);
    expect(a.p2p).toBe(1);
    expect(a.rejected).toBe(0);
    const events = [...a.events, ...b.events];
    // Nodes numbered in the order seen: the second node's GPUs are ranks 4..7.
    expect(events.map((e) => [e.host, e.rank])).toEqual([
      ...[0, 1, 2, 3].map((g) => ['nvl72004-T01', g]),
      ...[0, 1, 2, 3].map((g) => ['nvl72004-T02', 4 + g]),
    ]);
    // One window, one kind of call: the same seq for every rank.
    expect(new Set(events.map((e) => e.seq)).size).toBe(1);
    const slow = events.find((e) => e.rank === 6)!;
    expect(slow).toMatchObject({
      job: 'DP Group 0', comm_id: '4242/DP Group 0', n_ranks: 8, collective: 'AllReduce', exec_time_us: 9_000, end_us: (t + 2_000) * 1000,
      start_us: (t + 2_000) * 1000 - 9_000,
    });
    expect(slow.busbw_gbs).toBeCloseTo(111.111, 3);
    expect(slow.algbw_gbs).toBeCloseTo(111.111 / busFactor('AllReduce', 8), 3);
    // msg_bytes from algbw × time (GB/s × s), which the bucket bounds
    expect(slow.msg_bytes).toBeCloseTo((111.111 / 1.75) * 1e9 * 0.009, -4);
    // The next window is another call.
    const later = converter.convert(parsePrometheusText(nodeFile('nvl72004-T01', () => 6_000)).samples, t + 30_000);
    expect(later.events[0]!.seq).not.toBe(events[0]!.seq);
  });

  it('rejects series it cannot place, saying why', () => {
    const converter = new InspectorPromConverter();
    const r = converter.convert(parsePrometheusText([
      'nccl_collective_exec_time_microseconds{node="n",gpu="GPU9",comm_name="c",n_nodes="1",nranks="4",collective="AllGather"} 5',
      'nccl_collective_exec_time_microseconds{node="n",gpu="x",comm_name="c",n_nodes="1",nranks="4",collective="AllGather"} 5',
      'nccl_bus_bandwidth_gbs{node="n",gpu="GPU1",comm_name="c",n_nodes="1",nranks="4",collective="AllGather"} 5',
      'nccl_collective_exec_time_microseconds{node="n",gpu="GPU2",comm_name="c",n_nodes="1",nranks="4",collective="AllGather",message_size="1-2MB"} 5',
    ].join('\n')).samples, 1_000);
    expect(r.rejected).toBe(3);
    expect(r.reasons).toEqual([
      'line 1: n GPU 9 makes rank 9, outside 0..3 (more nodes than n_nodes?)',
      'line 2: gpu "x", nranks "4" or n_nodes "1" is not a GPU index / positive count',
      'line 3: nccl_collective_exec_time_microseconds is missing or not a duration',
    ]);
    expect(r.events).toMatchObject([{ rank: 2, msg_bytes: 1024 * 1024, exec_time_us: 5 }]);
    expect(Number.isNaN(r.events[0]!.busbw_gbs)).toBe(true);
    expect(bucketLowerBound('4-5GB')).toBe(4 * 1024 ** 3);
    expect(bucketLowerBound('512B')).toBe(512);
  });

  it('is scraped as a target kind and published as collective events', async () => {
    const { bus, records } = captureBus('collective_events');
    const url = await serve(() => nodeFile('nvl72004-T01', () => 6_000));
    const scraper = new NcclPromScraper({ bus, targets: [url], logger: silent, windowMs: 30_000 });
    const report = await scraper.scrapeAll();
    await bus.drain();
    expect(report.targets[0]).toMatchObject({ ok: true, records: 4, published: 4 });
    expect(records.map((e) => e.rank)).toEqual([0, 1, 2, 3]);
    expect(scraper.stats()).toMatchObject({ published: 4, rejected: 0, up: { [url]: 1 } });
  });
});
