/**
 * Stall drill-down: one stalled collective call. Its root cause and evidence, every rank's
 * timing (who entered late, who ran slow), and the telemetry of the blamed port or GPU and
 * of every port the evidence names, around the call.
 */
import { get, seriesPath, type GpuPoint, type PortPoint, type Stall, type StallDetail } from '../api.js';
import { rankTimelineOption, timeSeriesOption, type Line } from '../charts.js';
import { clear, h, kpi, panel, pill, table } from '../dom.js';
import { bytes, clock, dateTime, kindLabel, micros, percent, si } from '../format.js';
import { isGpu, isPort, jobHref, locationLink, stallHref } from '../links.js';
import type { ViewDefinition } from '../view.js';

/** Context either side of the stall in its telemetry charts. */
const CONTEXT_MS = 5000;

export const stallView: ViewDefinition = {
  name: 'stall',
  title: 'Stall drill-down',
  mount(root) {
    const head = h('div', { class: 'view-title' }, h('h1', {}, 'Stall drill-down'));
    const cause = h('div', { class: 'root-cause', id: 'root-cause' });
    const kpis = h('div', { class: 'kpis' });
    const ranks = h('div', { class: 'chart chart-ranks', id: 'ranks-chart' });
    const evidence = h('div', { id: 'evidence' });
    const telemetry = h('div', { class: 'chart', id: 'location-chart' });
    const pathPorts = h('div', { class: 'chart', id: 'path-chart' });
    const pathNote = h('p', { class: 'empty' });
    const recent = h('div', { id: 'recent-stalls' });
    root.append(
      head,
      cause,
      kpis,
      h(
        'div',
        { class: 'grid' },
        panel("Ranks' timings", ranks, { className: 'span-6', subtitle: 'late entry, then time in the collective; slowest rank in red' }),
        panel('Evidence', evidence, { className: 'span-6' }),
        panel('At the root cause', telemetry, { className: 'span-6', subtitle: 'around the call (shaded)' }),
        panel("Path's ports", h('div', {}, pathNote, pathPorts), { className: 'span-6', subtitle: 'queue depth of the ports the evidence names' }),
        panel('Other stalls of this job', recent, { className: 'span-12' }),
      ),
    );
    return {
      async update(ctx) {
        let id = ctx.params[0];
        if (!id) {
          const { stalls } = await get<{ stalls: Stall[] }>('/api/v1/stalls', { from: ctx.range.from_ms, to: ctx.range.to_ms, limit: 1 }, ctx.signal);
          const latest = stalls[0] ?? (await get<{ stalls: Stall[] }>('/api/v1/stalls', { limit: 1 }, ctx.signal)).stalls[0];
          if (!latest) {
            clear(cause);
            cause.append(h('p', { class: 'empty' }, 'No stall yet. Stalls appear here as soon as the pipeline finds one.'));
            return;
          }
          id = latest.id;
        }
        const { stall } = await get<{ stall: StallDetail }>(`/api/v1/stalls/${encodeURIComponent(id)}`, {}, ctx.signal);
        const start = Date.parse(stall.start);
        const end = Date.parse(stall.end);
        const window = { from_ms: start - CONTEXT_MS, to_ms: end + CONTEXT_MS };
        const rc = stall.root_cause;

        clear(cause);
        cause.setAttribute('data-stall', stall.id);
        cause.append(
          h('div', { class: 'rc-kind' }, pill(kindLabel(rc.kind), rc.kind)),
          h('div', { class: 'rc-text' }, h('span', { class: 'rc-label' }, 'Root cause at '), locationLink(rc.location), h('span', { class: 'rc-conf' }, ` · ${percent(rc.confidence, 0)} confidence`)),
          h('div', { class: 'rc-meta' }, h('a', { href: jobHref(stall.job) }, stall.job), ` · ${stall.collective} #${stall.seq} · ${dateTime(start)}.${String(start % 1000).padStart(3, '0')} UTC`),
        );
        clear(kpis);
        kpis.append(
          kpi('Call duration', micros(stall.duration_us), 'bad', 'duration'),
          kpi('Expected', micros(stall.expected_us), 'neutral', 'expected'),
          kpi('Slowdown', `${(stall.duration_us / Math.max(1, stall.expected_us)).toFixed(2)}×`, 'warn', 'slowdown'),
          kpi('Slowest rank', String(stall.slowest_rank), 'neutral', 'slowest-rank'),
          kpi('Ranks', String(stall.ranks.length), 'neutral', 'ranks'),
        );

        const first = Math.min(...stall.ranks.map((r) => r.start_us));
        ctx.charts.chart(
          ranks,
          rankTimelineOption(
            stall.ranks.map((r) => ({ label: `rank ${r.rank} · ${r.gpu}`, entered_us: r.start_us - first, in_call_us: r.exec_time_us, slowest: r.rank === stall.slowest_rank })),
            micros,
          ),
        );

        clear(evidence);
        evidence.append(
          table(rc.evidence, [
            { label: 'Signal', cell: (e) => h('span', { class: 'mono' }, e.signal) },
            { label: 'Where', cell: (e) => locationLink(e.location) },
            { label: 'Value', cell: (e) => `${si(e.value)} ${e.unit ?? ''}`.trim(), numeric: true },
            { label: 'Usual', cell: (e) => (e.reference === undefined ? '–' : `${si(e.reference)} ${e.unit ?? ''}`.trim()), numeric: true },
            { label: 'Note', cell: (e) => h('span', { class: 'note' }, e.note ?? '') },
          ]),
        );

        const marker = [{ from_ms: start, to_ms: Math.max(end, start + 50) }];
        const step = 100;
        if (isPort(rc.location)) {
          const s = await get<{ points: PortPoint[] }>(seriesPath('port', rc.location), { from: window.from_ms, to: window.to_ms, step }, ctx.signal);
          ctx.charts.chart(
            telemetry,
            timeSeriesOption(window, [{ name: `${rc.location} queue`, points: s.points.map((p) => [p.t_ms, p.queue_bytes_max]), area: true, color: '#ef5f6b' }], bytes, { markers: marker }),
          );
        } else if (isGpu(rc.location)) {
          const s = await get<{ points: GpuPoint[] }>(seriesPath('gpu', rc.location), { from: window.from_ms - 30_000, to: window.to_ms + 30_000, step: 1000, fields: 'DCGM_FI_DEV_SM_CLOCK' }, ctx.signal);
          const wide = { from_ms: window.from_ms - 30_000, to_ms: window.to_ms + 30_000 };
          ctx.charts.chart(
            telemetry,
            timeSeriesOption(wide, [{ name: `${rc.location} SM clock`, points: s.points.map((p) => [p.t_ms, p.metrics.DCGM_FI_DEV_SM_CLOCK ?? 0]), color: '#a78bfa', area: true }], (v) => `${v.toFixed(0)} MHz`, { markers: marker }),
          );
        } else {
          ctx.charts.chart(telemetry, timeSeriesOption(window, [], (v) => String(v)));
        }

        const ports = [...new Set(rc.evidence.map((e) => e.location).filter(isPort))];
        const lines: Line[] = await Promise.all(
          ports.slice(0, 8).map(async (port) => {
            const s = await get<{ points: PortPoint[] }>(seriesPath('port', port), { from: window.from_ms, to: window.to_ms, step }, ctx.signal);
            return { name: port, points: s.points.map((p) => [p.t_ms, p.queue_bytes_max] as [number, number]) };
          }),
        );
        pathPorts.classList.toggle('is-empty', lines.length === 0);
        pathNote.textContent = lines.length === 0 ? `The evidence names no port: the root cause is ${rc.location} itself.` : '';
        ctx.charts.chart(pathPorts, timeSeriesOption(window, lines, bytes, { markers: marker, legend: true }));

        const others = await get<{ stalls: Stall[] }>('/api/v1/stalls', { job: stall.job, from: start - 60_000, to: end + 60_000, limit: 50 }, ctx.signal);
        clear(recent);
        recent.append(
          table(
            others.stalls,
            [
              { label: 'Start (UTC)', cell: (s) => h('a', { href: stallHref(s.id), class: s.id === stall.id ? 'mono current' : 'mono' }, clock(Date.parse(s.start), true)) },
              { label: 'Duration', cell: (s) => micros(s.duration_us), numeric: true },
              { label: 'Root cause', cell: (s) => pill(kindLabel(s.root_cause.kind), s.root_cause.kind) },
              { label: 'Location', cell: (s) => locationLink(s.root_cause.location) },
            ],
            'No other stall within a minute.',
          ),
        );
      },
    };
  },
};
