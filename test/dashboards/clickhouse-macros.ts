/**
 * Expands a Grafana ClickHouse panel query the way Grafana and grafana-clickhouse-datasource
 * do before ClickHouse sees it, in the same three steps:
 *   1. the plugin's frontend replaces `$__conditionalAll(cond, $var)` by `cond`, or by `1=1`
 *      when the variable selects All (or nothing);
 *   2. Grafana's template service interpolates variables (`$var`, `${var}`, `${var:singlequote}`);
 *   3. the plugin's backend expands its macros (pkg/macros/macros.go): times are Unix seconds
 *      (`toDateTime(s)`), the `_ms` forms milliseconds, `$__interval_s` is at least 1.
 */

export interface GrafanaRequest {
  from_ms: number;
  to_ms: number;
  /** The panel interval Grafana computed for the request. */
  interval_ms: number;
  /** Variable values; ALL selects every one of `options`. */
  variables: Record<string, { value: string | typeof ALL; options?: string[] }>;
}

export const ALL = Symbol('All');

export function expandQuery(sql: string, request: GrafanaRequest): string {
  return expandBackendMacros(interpolateVariables(applyConditionalAll(sql, request), request), request);
}

/** Arguments of a macro call whose `(` is at `open`: split on top-level commas. */
function macroArgs(sql: string, open: number): { args: string[]; end: number } {
  let depth = 0;
  let current = '';
  const args: string[] = [];
  for (let i = open; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '(') {
      depth++;
      if (depth === 1) continue;
    } else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(current.trim());
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  throw new Error(`unbalanced parentheses in macro call at ${open}: ${sql.slice(open, open + 60)}`);
}

function applyConditionalAll(sql: string, request: GrafanaRequest): string {
  const macro = '$__conditionalAll';
  let at = sql.lastIndexOf(`${macro}(`);
  while (at !== -1) {
    const { args, end } = macroArgs(sql, at + macro.length);
    if (args.length !== 2) throw new Error(`${macro} takes 2 arguments, got ${args.length}`);
    const name = args[1]!.replace(/^\$\{?|\}$/g, '');
    const value = request.variables[name]?.value;
    const phrase = value === ALL || value === '' || value === undefined ? '1=1' : args[0]!;
    sql = sql.slice(0, at) + phrase + sql.slice(end);
    at = sql.lastIndexOf(`${macro}(`);
  }
  return sql;
}

const quote = (v: string) => `'${v.replace(/'/g, "\\'")}'`;

function interpolateVariables(sql: string, request: GrafanaRequest): string {
  // `$__…` names are macros, not variables.
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (whole, braced?: string, format?: string, bare?: string) => {
    const name = (braced ?? bare)!;
    const variable = request.variables[name];
    if (!variable) return whole;
    const values = variable.value === ALL ? (variable.options ?? []) : [variable.value];
    if (format === 'singlequote') return values.map(quote).join(',');
    if (format !== undefined && format !== 'raw') throw new Error(`variable format ${format} not supported here`);
    return values.length === 1 ? values[0]! : `{${values.join(',')}}`;
  });
}

function expandBackendMacros(sql: string, r: GrafanaRequest): string {
  const fromS = Math.floor(r.from_ms / 1000);
  const toS = Math.floor(r.to_ms / 1000);
  const intervalS = Math.max(Math.floor(r.interval_ms / 1000), 1);
  const intervalMs = Math.max(Math.floor(r.interval_ms), 1);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const withColumn: Record<string, (col: string, args: string[]) => string> = {
    timeFilter: (c) => `${c} >= toDateTime(${fromS}) AND ${c} <= toDateTime(${toS})`,
    timeFilter_ms: (c) => `${c} >= fromUnixTimestamp64Milli(${r.from_ms}) AND ${c} <= fromUnixTimestamp64Milli(${r.to_ms})`,
    dateFilter: (c) => `${c} >= toDate('${day(r.from_ms)}') AND ${c} <= toDate('${day(r.to_ms)}')`,
    timeFrom: (c) => `${c} >= toDateTime(${fromS})`,
    timeTo: (c) => `${c} <= toDateTime(${toS})`,
    timeInterval: (c) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalS} second)`,
    timeInterval_ms: (c) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${intervalMs} millisecond)`,
  };
  const plain: Record<string, string> = {
    fromTime: `toDateTime(${fromS})`,
    toTime: `toDateTime(${toS})`,
    fromTime_ms: `fromUnixTimestamp64Milli(${r.from_ms})`,
    toTime_ms: `fromUnixTimestamp64Milli(${r.to_ms})`,
    interval_s: String(intervalS),
  };
  let out = '';
  let i = 0;
  const pattern = /\$__(\w+)/g;
  for (let m = pattern.exec(sql); m; m = pattern.exec(sql)) {
    const name = m[1]!;
    out += sql.slice(i, m.index);
    const afterName = m.index + m[0].length;
    if (withColumn[name]) {
      if (sql[afterName] !== '(') throw new Error(`$__${name} needs an argument`);
      const { args, end } = macroArgs(sql, afterName);
      out += withColumn[name](args[0]!, args);
      i = end;
    } else if (plain[name] !== undefined) {
      out += plain[name];
      // The plugin accepts `$__fromTime` and `$__fromTime()` alike.
      i = sql.startsWith('()', afterName) ? afterName + 2 : afterName;
    } else {
      throw new Error(`macro $__${name} is not one grafana-clickhouse-datasource expands`);
    }
    pattern.lastIndex = i;
  }
  return out + sql.slice(i);
}
