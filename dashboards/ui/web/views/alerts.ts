/** Alerts: what fires now and what fired, by rule, with their labels and summaries. */
import { get, type Alert } from '../api.js';
import { barOption } from '../charts.js';
import { clear, h, kpi, panel, pill, table } from '../dom.js';
import { dateTime } from '../format.js';
import type { ViewDefinition } from '../view.js';

const STATE_ORDER = { firing: 0, pending: 1, resolved: 2 } as const;

export const alertsView: ViewDefinition = {
  name: 'alerts',
  title: 'Alerts',
  mount(root) {
    const kpis = h('div', { class: 'kpis' });
    const byRule = h('div', { class: 'chart chart-short', id: 'alerts-by-rule' });
    const list = h('div', { id: 'alerts-table' });
    root.append(
      h('div', { class: 'view-title' }, h('h1', {}, 'Alerts'), h('p', {}, 'Determinism and fabric alerts raised by the pipeline; firing ones are also sent to Alertmanager when one is configured.')),
      kpis,
      h('div', { class: 'grid' }, panel('Alerts in range, by rule', byRule, { className: 'span-12' }), panel('Alerts', list, { className: 'span-12', subtitle: 'firing first' })),
    );
    return {
      async update(ctx) {
        const { alerts } = await get<{ alerts: Alert[] }>('/api/v1/alerts', { limit: 500 }, ctx.signal);
        const inRange = alerts.filter((a) => Date.parse(a.startsAt) <= ctx.range.to_ms && (a.endsAt === null || Date.parse(a.endsAt) >= ctx.range.from_ms));
        const count = (s: Alert['state']) => alerts.filter((a) => a.state === s).length;
        clear(kpis);
        kpis.append(
          kpi('Firing', String(count('firing')), count('firing') ? 'bad' : 'good', 'firing'),
          kpi('Pending', String(count('pending')), count('pending') ? 'warn' : 'good', 'pending'),
          kpi('Resolved', String(count('resolved')), 'neutral', 'resolved'),
          kpi('In range', String(inRange.length), 'neutral', 'in-range'),
        );
        const rules = new Map<string, number>();
        for (const a of inRange) rules.set(a.rule, (rules.get(a.rule) ?? 0) + 1);
        ctx.charts.chart(byRule, barOption([...rules.entries()].map(([label, value]) => ({ label, value, color: '#ef5f6b' })), (v) => v.toFixed(0)));
        byRule.classList.toggle('is-empty', rules.size === 0);
        clear(list);
        list.append(
          table(
            [...inRange].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || Date.parse(b.startsAt) - Date.parse(a.startsAt)),
            [
              { label: 'State', cell: (a) => pill(a.state, a.state) },
              { label: 'Rule', cell: (a) => h('span', { class: 'mono' }, a.rule) },
              { label: 'Summary', cell: (a) => a.annotations.summary ?? a.annotations.description ?? '' },
              { label: 'Labels', cell: (a) => h('span', { class: 'labels' }, ...Object.entries(a.labels).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`))) },
              { label: 'Since (UTC)', cell: (a) => dateTime(Date.parse(a.startsAt)) },
              { label: 'Until', cell: (a) => (a.endsAt ? dateTime(Date.parse(a.endsAt)) : '–') },
              { label: 'Value', cell: (a) => a.value.toFixed(2), numeric: true },
            ],
            'No alerts in this range.',
          ),
        );
      },
    };
  },
};
