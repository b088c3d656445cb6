/**
 * Closed-loop HTTP load: `clients` concurrent clients each send a request, wait for the whole
 * body, and send the next, for `seconds`. Latency is request start to last body byte; a
 * non-2xx answer counts as an error and is not a latency sample. A short warm-up (not
 * measured) comes first, so first-query costs (caches, JIT) are not in the figures.
 */
export interface LoadFigures {
  requests: number;
  errors: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  rps: number;
  /** The first error answer, to say what went wrong. */
  first_error?: string;
}

export interface LoadOptions {
  clients: number;
  seconds: number;
  warmup_s: number;
}

/** `urlAt(i)` gives the i-th request's URL (callers vary ports, windows and ids by it). */
export async function closedLoopLoad(urlAt: (i: number) => string, headers: Record<string, string>, o: LoadOptions): Promise<LoadFigures> {
  let next = 0;
  const run = async (until: number, record: boolean, samples: number[], errors: { n: number; first?: string }) => {
    while (performance.now() < until) {
      const url = urlAt(next++);
      const t0 = performance.now();
      try {
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
        const body = await res.text();
        if (!record) continue;
        if (res.ok) samples.push(performance.now() - t0);
        else {
          errors.n++;
          errors.first ??= `${res.status} ${body.slice(0, 200)}`;
        }
      } catch (e) {
        if (!record) continue;
        errors.n++;
        errors.first ??= (e as Error).message;
      }
    }
  };
  const clients = (until: number, record: boolean, samples: number[], errors: { n: number; first?: string }) =>
    Promise.all(Array.from({ length: o.clients }, () => run(until, record, samples, errors)));

  await clients(performance.now() + o.warmup_s * 1000, false, [], { n: 0 });
  const samples: number[] = [];
  const errors: { n: number; first?: string } = { n: 0 };
  const t0 = performance.now();
  await clients(t0 + o.seconds * 1000, true, samples, errors);
  const elapsed_s = (performance.now() - t0) / 1000;
  samples.sort((a, b) => a - b);
  const at = (q: number) => (samples.length ? samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]! : NaN);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    requests: samples.length + errors.n,
    errors: errors.n,
    p50_ms: round(at(0.5)),
    p95_ms: round(at(0.95)),
    p99_ms: round(at(0.99)),
    max_ms: round(samples.at(-1) ?? NaN),
    rps: round(samples.length / elapsed_s),
    first_error: errors.first,
  };
}
