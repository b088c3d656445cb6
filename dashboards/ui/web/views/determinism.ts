/**
 * Job determinism: how long each collective call of a job takes (first rank's start to last
 * rank's end), how much that varies, the bus bandwidth, and the stalls with root causes.
 */
import { get, seriesPath, type Job, type JobPoint, type RootCause, type Stall } from '../api.js';
import { barOption, timeSeriesOption } from '../charts.js';
import { clear, h, kpi, panel } from '../dom.js';
import { kindLabel, micros, percent } from '../format.js';
import { jobHref } from '../links.js';
import { stepFor } from '../time-range.js';
import type { ViewDefinition } from '../view.js';
import { stallsTable } from './stall-table.js';

export const determinismView: ViewDefinition = {
  name: 'jobs',
  title: 'Job determinism',
  mount(root) {
    const picker = h('div', { class: 'job-picker', id: 'job-picker' });
    const kpis = h('div', { class: 'kpis' });
    const durations = h('div', { class: 'chart', id: 'duration-chart' });
    const jitter = h('div', { class: 'chart', id: 'jitter-chart' });
    const busbw = h('div', { class: 'chart', id: 'busbw-chart' });
    const culprits = h('div', { class: 'chart', id: 'culprit-chart' });
    const stalls = h('div', { id: 'stalls-table' });
    root.append(
      h('div', { class: 'view-title' }, h('h1', {}, 'Job determinism'), picker),
      kpis,
      h(
        'div',
        { class: 'grid' },
        panel('Collective call duration', durations, { className: 'span-6', subtitle: 'first rank start → last rank end · stalls shaded' }),
        panel('Jitter', jitter, { className: 'span-6', subtitle: 'p99 ÷ p50 − 1 per interval' }),
        panel('Bus bandwidth', busbw, { className: 'span-6' }),
        panel('Root causes by GPU time lost', culprits, { className: 'span-6' }),
        panel('Stalls', stalls, { className: 'span-12', subtitle: 'newest first · open one for its drill-down' }),
      ),
    );
    return {
      async update(ctx) {
        const q = { from: ctx.range.from_ms, to: ctx.range.to_ms };
        const { jobs } = await get<{ jobs: Job[] }>('/api/v1/jobs', q, ctx.signal);
        const job = ctx.params[0] ?? jobs[0]?.job;
        clear(picker);
        picker.append(h('span', { class: 'label' }, 'Job'), ...jobs.map((j) => h('a', { href: jobHref(j.job), class: j.job === job ? 'chip active' : 'chip' }, `${j.job} · ${j.n_ranks} ranks`)));
        if (!job) {
          clear(kpis);
          kpis.append(kpi('Jobs', '0'));
          return;
        }
        const step = stepFor(ctx.range, 90);
        const [series, stallRes, causes] = await Promise.all([
          get<{ points: JobPoint[] }>(seriesPath('job', job), { ...q, step }, ctx.signal),
          get<{ stalls: Stall[] }>('/api/v1/stalls', { ...q, job, limit: 500 }, ctx.signal),
          get<{ by_gpu_seconds_lost: RootCause[] }>('/api/v1/root-causes', { ...q, job }, ctx.signal),
        ]);
        const pts = series.points;
        const info = jobs.find((j) => j.job === job);
        const calls = pts.reduce((a, p) => a + p.calls, 0);
        const p50 = median(pts.map((p) => p.duration_p50_us));
        const worst = Math.max(0, ...pts.map((p) => p.duration_max_us));
        clear(kpis);
        kpis.append(
          kpi('Collective calls', String(calls), 'neutral', 'calls'),
          kpi('Typical call', micros(p50), 'neutral', 'p50'),
          kpi('Slowest call', micros(worst), worst > 1.5 * p50 ? 'warn' : 'good', 'max'),
          kpi('Stalled calls', String(stallRes.stalls.length), stallRes.stalls.length ? 'bad' : 'good', 'stalls'),
          kpi('Mean bus bandwidth', `${(info?.busbw_avg_gbs ?? 0).toFixed(1)} GB/s`, 'neutral', 'busbw'),
        );
        const markers = stallRes.stalls.map((s) => ({ from_ms: Date.parse(s.start), to_ms: Math.max(Date.parse(s.end), Date.parse(s.start) + step) }));
        ctx.charts.chart(
          durations,
          timeSeriesOption(
            ctx.range,
            [
              { name: 'p50', points: pts.map((p) => [p.t_ms, p.duration_p50_us]) },
              { name: 'p99', points: pts.map((p) => [p.t_ms, p.duration_p99_us]) },
              { name: 'max', points: pts.map((p) => [p.t_ms, p.duration_max_us]), dashed: true },
            ],
            micros,
            { markers },
          ),
          { zoomable: true },
        );
        ctx.charts.chart(
          jitter,
          timeSeriesOption(ctx.range, [{ name: 'p99 / p50 − 1', points: pts.map((p) => [p.t_ms, p.duration_p50_us ? p.duration_p99_us / p.duration_p50_us - 1 : 0]), area: true, color: '#f5a524' }], (v) => percent(v, 0)),
          { zoomable: true },
        );
        ctx.charts.chart(
          busbw,
          timeSeriesOption(
            ctx.range,
            [
              { name: 'mean', points: pts.map((p) => [p.t_ms, p.busbw_avg_gbs]), color: '#3ccf91', area: true },
              { name: 'worst call', points: pts.map((p) => [p.t_ms, p.busbw_min_gbs]), color: '#ef5f6b', dashed: true },
            ],
            (v) => `${v.toFixed(0)} GB/s`,
          ),
          { zoomable: true },
        );
        ctx.charts.chart(
          culprits,
          barOption(causes.by_gpu_seconds_lost.slice(0, 8).map((c) => ({ label: `${kindLabel(c.kind)} · ${c.location}`, value: c.gpu_seconds_lost, color: c.kind === 'straggler_gpu' ? '#a78bfa' : '#ef5f6b' })), (v) => `${v.toFixed(2)} s`),
        );
        clear(stalls);
        stalls.append(stallsTable(stallRes.stalls.slice(0, 100)));
      },
    };
  },
};

function median(xs: number[]): number {
  const s = xs.filter((x) => x > 0).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}
