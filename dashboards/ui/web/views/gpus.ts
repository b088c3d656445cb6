/**
 * GPU health: every GPU's latest DCGM values (slowest clocks first, held-down reasons
 * decoded), SM clocks over time for the slowest GPUs, and one GPU in detail.
 */
import { get, seriesPath, type Gpu, type GpuPoint } from '../api.js';
import { timeSeriesOption, type Line } from '../charts.js';
import { clear, h, kpi, panel, pill, table } from '../dom.js';
import { si } from '../format.js';
import { gpuHref } from '../links.js';
import { stepFor } from '../time-range.js';
import type { ViewDefinition } from '../view.js';

const M = (name: string) => `DCGM_FI_${name}`;
const MAX_CLOCK_LINES = 12;

/** DCGM clock-event reason bits that mean the clocks are held down. */
const REASONS: Array<[number, string]> = [
  [0x4, 'power cap'],
  [0x8, 'HW slowdown'],
  [0x20, 'SW thermal'],
  [0x40, 'HW thermal'],
  [0x80, 'power brake'],
];
const reasonsOf = (mask: number) => REASONS.filter(([bit]) => (mask & bit) !== 0).map(([, n]) => n);

export const gpusView: ViewDefinition = {
  name: 'gpus',
  title: 'GPU health',
  mount(root) {
    const kpis = h('div', { class: 'kpis' });
    const clocks = h('div', { class: 'chart', id: 'clock-chart' });
    const detailTitle = h('span', {});
    const detailClock = h('div', { class: 'chart chart-short', id: 'gpu-clock-chart' });
    const detailPower = h('div', { class: 'chart chart-short', id: 'gpu-power-chart' });
    const detailNvlink = h('div', { class: 'chart chart-short', id: 'gpu-nvlink-chart' });
    const list = h('div', { id: 'gpu-table' });
    root.append(
      h('div', { class: 'view-title' }, h('h1', {}, 'GPU health'), h('p', {}, 'DCGM clocks, clock-event reasons, power, NVLink traffic and XIDs.')),
      kpis,
      h(
        'div',
        { class: 'grid' },
        panel('SM clock, slowest GPUs', clocks, { className: 'span-12' }),
        panel('Clocks', detailClock, { className: 'span-4', subtitle: 'selected GPU' }),
        panel('Power and temperature', detailPower, { className: 'span-4', subtitle: 'selected GPU' }),
        panel('NVLink traffic', detailNvlink, { className: 'span-4', subtitle: 'selected GPU' }),
        panel('GPUs', h('div', {}, detailTitle, list), { className: 'span-12', subtitle: 'latest values, slowest SM clock first' }),
      ),
    );
    return {
      async update(ctx) {
        const { gpus } = await get<{ gpus: Gpu[] }>('/api/v1/gpus', {}, ctx.signal);
        const sorted = [...gpus].sort((a, b) => (a.metrics[M('DEV_SM_CLOCK')] ?? 0) - (b.metrics[M('DEV_SM_CLOCK')] ?? 0) || a.id.localeCompare(b.id, undefined, { numeric: true }));
        const selected = ctx.params[0] ?? sorted[0]?.id;
        const held = gpus.filter((g) => reasonsOf(g.metrics[M('DEV_CLOCKS_EVENT_REASONS')] ?? 0).length > 0).length;
        const xids = gpus.filter((g) => (g.metrics[M('DEV_XID_ERRORS')] ?? 0) !== 0).length;
        const power = gpus.reduce((a, g) => a + (g.metrics[M('DEV_POWER_USAGE')] ?? 0), 0);
        clear(kpis);
        kpis.append(
          kpi('GPUs reporting', String(gpus.length), 'neutral', 'gpus'),
          kpi('Clocks held down', String(held), held ? 'warn' : 'good', 'held'),
          kpi('GPUs with an XID', String(xids), xids ? 'bad' : 'good', 'xid'),
          kpi('Total power', `${(power / 1000).toFixed(1)} kW`, 'neutral', 'power'),
        );

        const step = stepFor(ctx.range, 90);
        const q = { from: ctx.range.from_ms, to: ctx.range.to_ms, step };
        const watched = sorted.slice(0, MAX_CLOCK_LINES).map((g) => g.id);
        if (selected && !watched.includes(selected)) watched.push(selected);
        const series = await Promise.all(
          watched.map(async (id) => ({ id, points: (await get<{ points: GpuPoint[] }>(seriesPath('gpu', id), { ...q, fields: `${M('DEV_SM_CLOCK')}` }, ctx.signal)).points })),
        );
        const lines: Line[] = series.map((s) => ({ name: s.id, points: s.points.map((p) => [p.t_ms, p.metrics[M('DEV_SM_CLOCK')] ?? 0]) }));
        ctx.charts.chart(clocks, timeSeriesOption(ctx.range, lines, (v) => `${v.toFixed(0)} MHz`), { zoomable: true });

        if (selected) {
          const fields = ['DEV_SM_CLOCK', 'DEV_MEM_CLOCK', 'DEV_POWER_USAGE', 'DEV_GPU_TEMP', 'PROF_NVLINK_TX_BYTES', 'PROF_NVLINK_RX_BYTES'].map(M).join(',');
          const { points } = await get<{ points: GpuPoint[] }>(seriesPath('gpu', selected), { ...q, fields }, ctx.signal);
          const line = (field: string, name: string, color?: string): Line => ({ name, color, points: points.map((p) => [p.t_ms, p.metrics[M(field)] ?? 0]) });
          ctx.charts.chart(detailClock, timeSeriesOption(ctx.range, [line('DEV_SM_CLOCK', 'SM', '#4f9dff'), line('DEV_MEM_CLOCK', 'memory', '#94a3b8')], (v) => `${v.toFixed(0)} MHz`, { legend: true }), { zoomable: true });
          ctx.charts.chart(detailPower, timeSeriesOption(ctx.range, [line('DEV_POWER_USAGE', 'power (W)', '#f5a524'), line('DEV_GPU_TEMP', 'temperature (°C)', '#ef5f6b')], (v) => v.toFixed(0), { legend: true }), { zoomable: true });
          ctx.charts.chart(detailNvlink, timeSeriesOption(ctx.range, [line('PROF_NVLINK_TX_BYTES', 'TX', '#3ccf91'), line('PROF_NVLINK_RX_BYTES', 'RX', '#22d3ee')], (v) => si(v, 'B/s'), { legend: true }), { zoomable: true });
          clear(detailTitle);
          detailTitle.append(h('p', { class: 'selected-gpu' }, 'Selected: ', h('strong', { class: 'mono' }, selected)));
        }

        clear(list);
        list.append(
          table(sorted, [
            { label: 'GPU', cell: (g) => h('a', { href: gpuHref(g.id), class: g.id === selected ? 'mono current' : 'mono' }, g.id) },
            { label: 'Model', cell: (g) => g.model },
            { label: 'SM clock', cell: (g) => `${(g.metrics[M('DEV_SM_CLOCK')] ?? 0).toFixed(0)} MHz`, numeric: true },
            { label: 'Temp', cell: (g) => `${(g.metrics[M('DEV_GPU_TEMP')] ?? 0).toFixed(0)} °C`, numeric: true },
            { label: 'Power', cell: (g) => `${(g.metrics[M('DEV_POWER_USAGE')] ?? 0).toFixed(0)} W`, numeric: true },
            { label: 'Util', cell: (g) => `${(g.metrics[M('DEV_GPU_UTIL')] ?? 0).toFixed(0)} %`, numeric: true },
            { label: 'NVLink', cell: (g) => si((g.metrics[M('PROF_NVLINK_TX_BYTES')] ?? 0) + (g.metrics[M('PROF_NVLINK_RX_BYTES')] ?? 0), 'B/s'), numeric: true },
            { label: 'Held down by', cell: (g) => { const r = reasonsOf(g.metrics[M('DEV_CLOCKS_EVENT_REASONS')] ?? 0); return r.length ? pill(r.join(', '), 'warn') : h('span', { class: 'muted' }, '–'); } },
            { label: 'XID', cell: (g) => { const x = g.metrics[M('DEV_XID_ERRORS')] ?? 0; return x ? pill(String(x), 'bad') : h('span', { class: 'muted' }, '–'); }, numeric: true },
          ]),
        );
      },
    };
  },
};
