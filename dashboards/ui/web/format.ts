/** Number and time formatting for the UI. All times are shown in UTC, like the API's. */

export function bytes(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function si(v: number, unit = ''): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const [d, s] = a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  const x = v / d;
  return `${x.toFixed(Math.abs(x) >= 100 || d === 1 && Number.isInteger(x) ? 0 : 1)}${s ? ` ${s}` : ' '}${unit}`.trim();
}

export function micros(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (Math.abs(us) >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (Math.abs(us) >= 1e3) return `${(us / 1e3).toFixed(1)} ms`;
  return `${Math.round(us)} µs`;
}

export const percent = (f: number, digits = 1): string => (Number.isFinite(f) ? `${(f * 100).toFixed(digits)} %` : '–');

export function clock(ms: number, withMillis = false): string {
  const iso = new Date(ms).toISOString();
  return withMillis ? iso.slice(11, 23) : iso.slice(11, 19);
}

export function dateTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

export function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

const KIND_LABELS: Record<string, string> = {
  incast_congestion: 'Incast congestion',
  ecmp_collision: 'ECMP collision',
  link_degraded: 'Degraded link',
  link_flap: 'Link flap',
  pfc_storm: 'PFC storm',
  credit_starvation: 'Credit starvation',
  straggler_gpu: 'Straggler GPU',
  unknown: 'Unknown',
};

export const kindLabel = (kind: string): string => KIND_LABELS[kind] ?? kind;
