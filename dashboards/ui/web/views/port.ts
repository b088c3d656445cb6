/** One port's series: queue, throughput, ECN, PFC, credits, errors; its far end is a link. */
import { get, seriesPath, type PortPoint } from '../api.js';
import { timeSeriesOption } from '../charts.js';
import { clear, h, kpi, panel } from '../dom.js';
import { bytes, percent, si } from '../format.js';
import { isPort, locationLink } from '../links.js';
import { stepFor } from '../time-range.js';
import type { ViewDefinition } from '../view.js';

export const portView: ViewDefinition = {
  name: 'port',
  title: 'Port',
  mount(root, ctx) {
    const port = ctx.params[0] ?? '';
    const info = h('p', { class: 'port-info' });
    const kpis = h('div', { class: 'kpis' });
    const queue = h('div', { class: 'chart', id: 'port-queue-chart' });
    const tx = h('div', { class: 'chart', id: 'port-tx-chart' });
    const ecn = h('div', { class: 'chart', id: 'port-ecn-chart' });
    const pause = h('div', { class: 'chart', id: 'port-pause-chart' });
    root.append(
      h('div', { class: 'view-title' }, h('h1', {}, 'Port ', h('span', { class: 'mono' }, port)), info),
      kpis,
      h(
        'div',
        { class: 'grid' },
        panel('Queue depth', queue, { className: 'span-6', subtitle: 'peak and mean per interval' }),
        panel('Throughput', tx, { className: 'span-6' }),
        panel('ECN-marked packets', ecn, { className: 'span-6' }),
        panel('PFC pause and credit stalls', pause, { className: 'span-6', subtitle: 'fraction of time' }),
      ),
    );
    return {
      async update(ctx) {
        const [series, ports] = await Promise.all([
          get<{ points: PortPoint[]; resolution: string }>(seriesPath('port', port), { from: ctx.range.from_ms, to: ctx.range.to_ms, step: stepFor(ctx.range, 240) }, ctx.signal),
          ctx.ports(),
        ]);
        const entry = ports.find((p) => p.name === port);
        clear(info);
        if (entry) info.append(`${entry.role?.replace('_', ' ') ?? 'port'} of ${entry.device}${entry.capacity_gbps ? `, ${entry.capacity_gbps} Gb/s` : ''} · far end `, entry.peer ? (isPort(entry.peer) ? locationLink(entry.peer) : h('span', { class: 'mono' }, entry.peer)) : '–');
        const pts = series.points;
        clear(kpis);
        kpis.append(
          kpi('Peak queue', bytes(Math.max(0, ...pts.map((p) => p.queue_bytes_max))), 'neutral', 'peak-queue'),
          kpi('Peak TX', `${Math.max(0, ...pts.map((p) => p.tx_gbps)).toFixed(0)} Gb/s`, 'neutral', 'peak-tx'),
          kpi('Link errors', String(pts.reduce((a, p) => a + p.link_errors, 0)), 'neutral', 'errors'),
          kpi('Down samples', String(pts.reduce((a, p) => a + p.down_samples, 0)), 'neutral', 'down'),
        );
        const line = (name: string, pick: (p: PortPoint) => number, color: string, area = false) => ({ name, color, area, points: pts.map((p) => [p.t_ms, pick(p)] as [number, number]) });
        ctx.charts.chart(queue, timeSeriesOption(ctx.range, [line('peak', (p) => p.queue_bytes_max, '#ef5f6b', true), line('mean', (p) => p.queue_bytes_avg, '#4f9dff')], bytes), { zoomable: true });
        ctx.charts.chart(tx, timeSeriesOption(ctx.range, [line('TX', (p) => p.tx_gbps, '#3ccf91', true)], (v) => `${v.toFixed(0)} Gb/s`), { zoomable: true });
        ctx.charts.chart(ecn, timeSeriesOption(ctx.range, [line('ECN marks', (p) => p.ecn_marked_pkts_per_s, '#f5a524', true)], (v) => si(v, 'pkt/s')), { zoomable: true });
        ctx.charts.chart(pause, timeSeriesOption(ctx.range, [line('PFC paused', (p) => p.pfc_pause_fraction, '#a78bfa'), line('credit stalled', (p) => p.credit_stall_fraction, '#22d3ee')], (v) => percent(v, 0), { legend: true }), { zoomable: true });
      },
    };
  },
};
