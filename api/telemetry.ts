/**
 * The API's own telemetry, rendered as Prometheus text on /metrics. Label values come only
 * from fixed sets (route patterns, not raw URLs; status codes; store operations) so a client
 * cannot inflate the number of series.
 */
import type { NextFunction, Request, Response } from 'express';

type Labels = Record<string, string>;

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels, by = 1): void {
    const key = JSON.stringify(labels);
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels: Labels): number {
    return this.values.get(JSON.stringify(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${renderLabels(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A value that goes up and down (open streams). */
class Gauge {
  private value = 0;
  constructor(readonly name: string, readonly help: string) {}

  add(by: number): void {
    this.value += by;
  }

  get(): number {
    return this.value;
  }

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.value}`].join('\n');
  }
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const renderLabels = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

export class ApiTelemetry {
  readonly httpRequests = new Counter('fabricscope_http_requests_total', 'HTTP requests answered, by method, route pattern and status.');
  readonly storeErrors = new Counter('fabricscope_store_errors_total', 'Store operations that failed, by operation.');
  readonly apiErrors = new Counter('fabricscope_api_errors_total', 'Requests answered with an error, by error code.');
  readonly rateLimited = new Counter('fabricscope_http_rate_limited_total', 'Requests refused with 429 by the per-client rate limit.');
  readonly streamClients = new Gauge('fabricscope_stream_clients', 'Clients connected to the live event stream.');
  readonly streamEvents = new Counter('fabricscope_stream_events_total', 'Events written to live-stream clients, by type.');
  readonly streamDropped = new Counter('fabricscope_stream_clients_dropped_total', 'Live-stream clients disconnected because they read too slowly.');

  /** Counts every response once it is sent, under the matched route pattern. */
  countRequests() {
    return (req: Request, res: Response, next: NextFunction): void => {
      res.on('finish', () => {
        this.httpRequests.inc({ method: req.method, route: routeOf(req), status: String(res.statusCode) });
      });
      next();
    };
  }

  render(): string {
    const all = [this.httpRequests, this.storeErrors, this.apiErrors, this.rateLimited, this.streamClients, this.streamEvents, this.streamDropped];
    return all.map((c) => c.render()).join('\n') + '\n';
  }
}

/** `/api/v1/stalls/:id`, never `/api/v1/stalls/<some id>`; unmatched URLs share one label. */
function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? pattern : 'unmatched';
}
