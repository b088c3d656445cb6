/** Small HTTP helpers for the bench's probes: JSON and text with a timeout, and waiting for ready. */
import { setTimeout as sleep } from 'node:timers/promises';

export async function getText(url: string, timeoutMs = 10_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}: ${body.slice(0, 300)}`);
  return body;
}

export async function getJson<T>(url: string, timeoutMs = 10_000): Promise<T> {
  return JSON.parse(await getText(url, timeoutMs)) as T;
}

/** Polls `url` until it answers 2xx; throws after `timeoutMs`. */
export async function waitUntilOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last})`);
}

/** Sum of the samples of `metric` in Prometheus text exposition whose label set passes `labels` (default: all). */
export function sumMetric(exposition: string, metric: string, labels: (labelText: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!labels(rest[0] === '{' ? rest.slice(0, rest.lastIndexOf('}') + 1) : '')) continue;
    const values = rest[0] === '{' ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = Number(values.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
