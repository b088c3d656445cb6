/**
 * Annotation templates, the subset of Prometheus' Go templates that alert annotations use:
 *   {{ $labels.job }}      a label of the alert (empty when absent)
 *   {{ $value }}           the value that triggered it, 4 significant digits
 *   {{ $value | printf "%.2f" }}  fixed decimals
 *   {{ $value | humanizePercentage }}  0.43 → 43%
 * Anything else is rejected when the rules are loaded, so a typo never reaches a pager.
 */

export interface TemplateData {
  labels: Readonly<Record<string, string>>;
  value: number;
}

const ACTION = /\{\{\s*(.*?)\s*\}\}/g;
const LABEL = /^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$/;
const VALUE = /^\$value(?:\s*\|\s*(.+))?$/;
const PRINTF = /^printf\s+"%\.(\d)f"$/;

type Piece = string | ((d: TemplateData) => string);

export class Template {
  private constructor(private readonly pieces: Piece[]) {}

  /** Throws an Error naming the offending action when the template uses something unsupported. */
  static compile(text: string): Template {
    const pieces: Piece[] = [];
    let last = 0;
    for (const m of text.matchAll(ACTION)) {
      pieces.push(text.slice(last, m.index));
      pieces.push(compileAction(m[1]!));
      last = m.index + m[0].length;
    }
    pieces.push(text.slice(last));
    if (/\{\{|\}\}/.test(pieces.filter((p) => typeof p === 'string').join(''))) {
      throw new Error(`unbalanced "{{" or "}}" in ${JSON.stringify(text)}`);
    }
    return new Template(pieces);
  }

  render(data: TemplateData): string {
    return this.pieces.map((p) => (typeof p === 'string' ? p : p(data))).join('');
  }
}

function compileAction(action: string): (d: TemplateData) => string {
  const label = LABEL.exec(action);
  if (label) {
    const name = label[1]!;
    return (d) => d.labels[name] ?? '';
  }
  const value = VALUE.exec(action);
  if (value) {
    const pipe = value[1]?.trim();
    if (pipe === undefined) return (d) => formatValue(d.value);
    if (pipe === 'humanizePercentage') return (d) => `${formatValue(d.value * 100)}%`;
    const printf = PRINTF.exec(pipe);
    if (printf) {
      const digits = Number(printf[1]);
      return (d) => d.value.toFixed(digits);
    }
    throw new Error(`unsupported template function "${pipe}" (use printf "%.Nf" or humanizePercentage)`);
  }
  throw new Error(`unsupported template action "{{ ${action} }}" (use {{ $labels.NAME }} or {{ $value }})`);
}

/** Four significant digits without trailing zeros: 1.5, 0.4321, 12350. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}
