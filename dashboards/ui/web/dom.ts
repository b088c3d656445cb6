/**
 * A tiny element builder. Text always goes in as text nodes, never as HTML, so names that
 * come from telemetry cannot inject markup; no inline styles either (the CSP forbids them).
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A titled card, the unit every view lays out on its grid. */
export function panel(title: string, body: Node, opts: { className?: string; subtitle?: string; id?: string } = {}): HTMLElement {
  return h(
    'section',
    { class: `panel ${opts.className ?? ''}`.trim(), id: opts.id, 'data-panel': title },
    h('header', { class: 'panel-header' }, h('h2', {}, title), opts.subtitle ? h('span', { class: 'panel-subtitle' }, opts.subtitle) : null),
    body,
  );
}

export function kpi(label: string, value: string, tone: 'neutral' | 'bad' | 'warn' | 'good' = 'neutral', testId?: string): HTMLElement {
  return h('div', { class: `kpi kpi-${tone}`, 'data-kpi': testId ?? label }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  numeric?: boolean;
}

export function table<T>(rows: T[], columns: Column<T>[], empty = 'Nothing in this range.'): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data-table' },
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { class: c.numeric ? 'num' : undefined }, c.label)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...columns.map((c) => h('td', { class: c.numeric ? 'num' : undefined }, c.cell(r)))))),
    ),
  );
}

export const link = (href: string, text: string, className?: string) => h('a', { href, class: className }, text);

export function pill(text: string, tone: string): HTMLElement {
  return h('span', { class: `pill pill-${tone}` }, text);
}
