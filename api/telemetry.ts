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

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const renderLabels = (labels: Labels): string => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

export class ApiTelemetry {
  readonly httpRequests = new Counter('fabricscope_http_requests_total', 'HTTP requests answered, by method, route pattern and status.');
  readonly storeErrors = new Counter('fabricscope_store_errors_total', 'Store operations that failed, by operation.');
  readonly apiErrors = new Counter('fabricscope_api_errors_total', 'Requests answered with an error, by error code.');

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
    return [this.httpRequests, this.storeErrors, this.apiErrors].map((c) => c.render()).join('\n') + '\n';
  }
}

/** `/api/v1/stalls/:id`, never `/api/v1/stalls/<some id>`; unmatched URLs share one label. */
function routeOf(req: Request): string {
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return typeof pattern === 'string' ? pattern : 'unmatched';
}
