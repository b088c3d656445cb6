/** The stalls table shared by views: each row opens its drill-down. */
import type { Stall } from '../api.js';
import { h, pill, table } from '../dom.js';
import { clock, kindLabel, micros, percent } from '../format.js';
import { locationLink, stallHref } from '../links.js';

export function stallsTable(stalls: Stall[]): HTMLElement {
  return table(
    stalls,
    [
      { label: 'Start (UTC)', cell: (s) => h('a', { href: stallHref(s.id), class: 'mono', 'data-stall-link': s.id }, clock(Date.parse(s.start), true)) },
      { label: 'Job', cell: (s) => s.job },
      { label: 'Call', cell: (s) => `${s.collective} #${s.seq}` },
      { label: 'Duration', cell: (s) => micros(s.duration_us), numeric: true },
      { label: 'Slowdown', cell: (s) => `${(s.duration_us / Math.max(1, s.expected_us)).toFixed(2)}×`, numeric: true },
      { label: 'Root cause', cell: (s) => pill(kindLabel(s.root_cause.kind), s.root_cause.kind) },
      { label: 'Location', cell: (s) => locationLink(s.root_cause.location) },
      { label: 'Confidence', cell: (s) => percent(s.root_cause.confidence, 0), numeric: true },
    ],
    'No stalls in this range.',
  );
}
