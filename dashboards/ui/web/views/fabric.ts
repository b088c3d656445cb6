/**
 * Fabric overview: where the scale-out fabric queues, marks and pauses, and where scale-up
 * links wait for credits. The heatmap shows the busiest scale-out ports (by current queue
 * and ECN, plus every port a stall blames) so the request count stays bounded on big fabrics.
 */
import { get, seriesPath, type Alert, type PortEntry, type PortPoint, type RootCause, type Stall } from '../api.js';
import { barOption, heatmapOption, timeSeriesOption, type Line } from '../charts.js';
import { clear, h, kpi, panel, table } from '../dom.js';
import { bytes, kindLabel, percent, si } from '../format.js';
import { portHref } from '../links.js';
import { stepFor } from '../time-range.js';
import type { ViewContext, ViewDefinition } from '../view.js';

const MAX_HEATMAP_PORTS = 24;
const MAX_SCALE_UP_PORTS = 8;

interface PortSeries {
  port: string;
  device: string;
  points: PortPoint[];
}

function rankPorts(ports: PortEntry[], pinned: Set<string>, limit: number): PortEntry[] {
  const score = (p: PortEntry) => (pinned.has(p.name) ? 1e18 : 0) + (p.state ? p.state.queue_bytes + p.state.ecn_marked_pkts_per_s + p.state.credit_stall_fraction * 1e9 : 0);
  return [...ports].sort((a, b) => score(b) - score(a) || a.name.localeCompare(b.name, undefined, { numeric: true })).slice(0, limit);
}

async function seriesOf(ports: PortEntry[], ctx: ViewContext, step: number): Promise<PortSeries[]> {
  return Promise.all(
    ports.map(async (p) => {
      const r = await get<{ points: PortPoint[] }>(seriesPath('port', p.name), { from: ctx.range.from_ms, to: ctx.range.to_ms, step }, ctx.signal);
      return { port: p.name, device: p.device, points: r.points };
    }),
  );
}

/** One line per switch: `pick` over its ports, combined with `combine` per bucket. */
function perSwitch(series: PortSeries[], pick: (p: PortPoint) => number, combine: (a: number, b: number) => number): Line[] {
  const bySwitch = new Map<string, Map<number, number>>();
  for (const s of series) {
    const m = bySwitch.get(s.device) ?? new Map<number, number>();
    bySwitch.set(s.device, m);
    for (const p of s.points) m.set(p.t_ms, m.has(p.t_ms) ? combine(m.get(p.t_ms)!, pick(p)) : pick(p));
  }
  return [...bySwitch.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([name, m]) => ({ name, points: [...m.entries()].sort((a, b) => a[0] - b[0]) }));
}

export const fabricView: ViewDefinition = {
  name: 'fabric',
  title: 'Fabric overview',
  mount(root) {
    const kpis = h('div', { class: 'kpis' });
    const heat = h('div', { class: 'chart chart-tall', id: 'queue-heatmap' });
    const ecn = h('div', { class: 'chart', id: 'ecn-chart' });
    const pfc = h('div', { class: 'chart', id: 'pfc-chart' });
    const credit = h('div', { class: 'chart', id: 'credit-chart' });
    const top = h('div', { id: 'top-ports' });
    const causes = h('div', { class: 'chart chart-short', id: 'root-cause-chart' });
    root.append(
      h('div', { class: 'view-title' }, h('h1', {}, 'Fabric overview'), h('p', {}, 'Queues, ECN marks, PFC pauses and scale-up credit stalls across the fabric.')),
      kpis,
      h(
        'div',
        { class: 'grid' },
        panel('Egress queue depth by port', heat, { className: 'span-12', subtitle: 'peak per interval · busiest scale-out ports' }),
        panel('ECN-marked packets per switch', ecn, { className: 'span-6', subtitle: 'mean per port' }),
        panel('PFC pause, worst port per switch', pfc, { className: 'span-6', subtitle: 'fraction of time paused' }),
        panel('Top congested ports', top, { className: 'span-7' }),
        panel('Root causes by GPU time lost', causes, { className: 'span-5' }),
        panel('Scale-up credit stalls', credit, { className: 'span-12', subtitle: 'fraction of time a scale-up port waited for credits' }),
      ),
    );
    return {
      async update(ctx) {
        const q = { from: ctx.range.from_ms, to: ctx.range.to_ms };
        const [ports, stallsRes, rootCauses, firing] = await Promise.all([
          ctx.ports(),
          get<{ stalls: Stall[] }>('/api/v1/stalls', { ...q, limit: 1000 }, ctx.signal),
          get<{ by_gpu_seconds_lost: RootCause[] }>('/api/v1/root-causes', q, ctx.signal),
          get<{ alerts: Alert[] }>('/api/v1/alerts', { state: 'firing' }, ctx.signal),
        ]);
        const blamed = new Set(stallsRes.stalls.map((s) => s.root_cause.location));
        const scaleOut = ports.filter((p) => !p.device.startsWith('nvsw-'));
        const scaleUp = ports.filter((p) => p.device.startsWith('nvsw-'));
        const lost = rootCauses.by_gpu_seconds_lost.reduce((s, r) => s + r.gpu_seconds_lost, 0);
        // From the ports' latest state, so the numbers show before the (slower) series are read.
        const congested = ports.filter((p) => p.state && (p.state.ecn_marked_pkts_per_s > 0 || p.state.pfc_pause_fraction > 0)).length;
        const errors = ports.reduce((s, p) => s + (p.state?.link_errors ?? 0), 0);
        clear(kpis);
        kpis.append(
          kpi('Stalled collectives', stallsRes.stalls.length >= 1000 ? '1000+' : String(stallsRes.stalls.length), stallsRes.stalls.length ? 'bad' : 'good', 'stalls'),
          kpi('GPU time lost', `${lost.toFixed(2)} s`, lost > 0 ? 'warn' : 'good', 'gpu-seconds-lost'),
          kpi('Ports marking or pausing now', String(congested), congested ? 'warn' : 'good', 'congested-ports'),
          kpi('Link errors, last interval', String(errors), errors ? 'bad' : 'good', 'link-errors'),
          kpi('Alerts firing', String(firing.alerts.length), firing.alerts.length ? 'bad' : 'good', 'alerts-firing'),
        );

        const step = stepFor(ctx.range);
        const [outSeries, upSeries] = await Promise.all([
          seriesOf(rankPorts(scaleOut, blamed, MAX_HEATMAP_PORTS), ctx, step),
          seriesOf(rankPorts(scaleUp, blamed, MAX_SCALE_UP_PORTS), ctx, step),
        ]);

        // Heatmap on a common bucket grid.
        const times = [...new Set(outSeries.flatMap((s) => s.points.map((p) => p.t_ms)))].sort((a, b) => a - b);
        const index = new Map(times.map((t, i) => [t, i]));
        const rows = outSeries.map((s) => s.port);
        const cells: Array<[number, number, number]> = outSeries.flatMap((s, row) => s.points.map((p) => [index.get(p.t_ms)!, row, p.queue_bytes_max] as [number, number, number]));
        const heatChart = ctx.charts.chart(heat, heatmapOption(times, rows, cells, bytes));
        heatChart.off('click');
        heatChart.on('click', (p) => {
          const port = rows[(p.value as number[])[1]!];
          if (port) location.hash = portHref(port);
        });

        ctx.charts.chart(ecn, timeSeriesOption(ctx.range, perSwitch(outSeries, (p) => p.ecn_marked_pkts_per_s, (a, b) => a + b), (v) => si(v, 'pkt/s')), { zoomable: true });
        ctx.charts.chart(pfc, timeSeriesOption(ctx.range, perSwitch(outSeries, (p) => p.pfc_pause_fraction, Math.max), (v) => percent(v, 0), { max: 1 }), { zoomable: true });
        ctx.charts.chart(
          credit,
          timeSeriesOption(ctx.range, upSeries.map((s) => ({ name: s.port, points: s.points.map((p) => [p.t_ms, p.credit_stall_fraction] as [number, number]) })), (v) => percent(v, 0)),
          { zoomable: true },
        );

        const summary = outSeries
          .map((s) => ({
            port: s.port,
            peak: Math.max(0, ...s.points.map((p) => p.queue_bytes_max)),
            ecn: s.points.reduce((a, p) => a + p.ecn_marked_pkts_per_s, 0) / Math.max(1, s.points.length),
            pause: Math.max(0, ...s.points.map((p) => p.pfc_pause_fraction)),
            tx: Math.max(0, ...s.points.map((p) => p.tx_gbps)),
            errors: s.points.reduce((a, p) => a + p.link_errors, 0),
            blamed: blamed.has(s.port),
          }))
          .sort((a, b) => b.peak - a.peak || b.ecn - a.ecn)
          .slice(0, 10);
        clear(top);
        top.append(
          table(summary, [
            { label: 'Port', cell: (r) => h('span', {}, h('a', { href: portHref(r.port), class: 'mono', 'data-port-link': r.port }, r.port), r.blamed ? h('span', { class: 'tag tag-bad' }, 'root cause') : null) },
            { label: 'Peak queue', cell: (r) => bytes(r.peak), numeric: true },
            { label: 'ECN marks', cell: (r) => si(r.ecn, 'pkt/s'), numeric: true },
            { label: 'Worst pause', cell: (r) => percent(r.pause), numeric: true },
            { label: 'Errors', cell: (r) => r.errors, numeric: true },
          ]),
        );

        const culprits = rootCauses.by_gpu_seconds_lost.slice(0, 8);
        if (culprits.length === 0) {
          causes.classList.add('is-empty');
          ctx.charts.chart(causes, barOption([], (v) => `${v.toFixed(2)} s`));
        } else {
          causes.classList.remove('is-empty');
          ctx.charts.chart(causes, barOption(culprits.map((c) => ({ label: `${kindLabel(c.kind)} · ${c.location}`, value: c.gpu_seconds_lost, color: c.kind === 'straggler_gpu' ? '#a78bfa' : '#ef5f6b' })), (v) => `${v.toFixed(2)} s`));
        }
      },
    };
  },
};
