/** Every SQL text a built dashboard sends to ClickHouse: its panels' targets and its query variables. */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

export interface DashboardQuery {
  /** Panel title, or `$name` for a variable. */
  source: string;
  rawSql: string;
}

type AnyPanel = { title?: string; targets?: unknown[]; panels?: AnyPanel[] };

export function dashboardQueries(d: dashboard.Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const visit = (p: AnyPanel): void => {
    for (const t of p.targets ?? []) {
      const rawSql = (t as { rawSql?: unknown }).rawSql;
      if (typeof rawSql === 'string') out.push({ source: p.title ?? '(untitled)', rawSql });
    }
    for (const child of p.panels ?? []) visit(child);
  };
  for (const p of (d.panels ?? []) as AnyPanel[]) visit(p);
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query' && typeof v.query === 'string') out.push({ source: `$${v.name}`, rawSql: v.query });
  }
  return out;
}
