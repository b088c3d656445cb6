/**
 * Scrapes Prometheus text endpoints (dcgm-exporter, the NCCL Inspector's Prometheus mode),
 * all targets concurrently, each with its own timeout, and publishes the canonical records
 * a converter makes of each scrape. Two ways to drive it: `start(intervalMs)` for periodic
 * scraping in real time, or `scrapeAll()` for lockstep use (the orchestrator of a
 * full-speed replay calls it after each simulated interval).
 */
import type { Bus } from '../core/bus.js';
import { createLogger, type Logger } from '../core/log.js';
import type { Topic, TopicRecords } from '../core/records.js';
import { emptyCounters, type CollectorCounters } from './collector-stats.js';
import type { CollectorSource, CollectorTelemetry } from './collector-telemetry.js';
import { parsePrometheusText, type PromSample } from './dcgm/prometheus-text.js';

/** What a scrape's samples become. */
export interface ScrapeConversion<T extends Topic> {
  records: TopicRecords[T][];
  /** Samples refused (each kind says why in its own counters). */
  rejected: number;
}

export interface ScrapeKind<T extends Topic> {
  source: CollectorSource;
  /** Telemetry `format` label. */
  format: string;
  topic: T;
  /**
   * @param scrapeMs when the scrape was sent (for lines without a timestamp)
   * @param target the target, with its labels (file_sd)
   */
  convert(samples: PromSample[], scrapeMs: number, target: TargetWithLabels): ScrapeConversion<T>;
}

export interface PrometheusScraperOptions {
  bus: Bus;
  /**
   * `http://node-0:9400/metrics`, or `host:port` (scheme and `/metrics` are added); or
   * targets with labels, from a file_sd targets file.
   */
  targets: ReadonlyArray<string | TargetWithLabels>;
  /** Per-target timeout; default 5000 ms. */
  timeoutMs?: number;
  /** Largest accepted response; default 16 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
  telemetry?: CollectorTelemetry;
}

export interface TargetWithLabels {
  url: string;
  /** A `Hostname`, `hostname` or `node` label names the host of GPUs whose exporter does not. */
  labels: Readonly<Record<string, string>>;
}

export interface TargetReport {
  url: string;
  ok: boolean;
  status?: number;
  error?: string;
  duration_ms: number;
  /** Prometheus samples parsed. */
  samples: number;
  /** Lines that failed to parse (each error names its line). */
  parse_errors: number;
  /** Canonical records made of the samples. */
  records: number;
  published: number;
}

export interface ScrapeReport {
  started_ms: number;
  duration_ms: number;
  targets: TargetReport[];
  /** Records accepted by the bus over all targets. */
  published: number;
  failed_targets: number;
}

export interface ScraperStats extends CollectorCounters {
  scrapes: number;
  failed_scrapes: number;
  /** Per target: 1 if the last scrape succeeded (the `up` of Prometheus). */
  up: Record<string, number>;
}

export class PrometheusScraper<T extends Topic> {
  private readonly bus: Bus;
  private readonly kind: ScrapeKind<T>;
  private targets: TargetWithLabels[];
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly log: Logger;
  private readonly telemetry?: CollectorTelemetry;
  private timer?: NodeJS.Timeout;
  private running?: Promise<ScrapeReport>;
  private readonly counters: ScraperStats = { ...emptyCounters(), scrapes: 0, failed_scrapes: 0, up: {} };

  constructor(kind: ScrapeKind<T>, options: PrometheusScraperOptions) {
    this.kind = kind;
    this.bus = options.bus;
    this.targets = options.targets.map(withLabels);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
    this.log = options.logger ?? createLogger('info', `collectors.${kind.source}`);
    this.telemetry = options.telemetry;
  }

  get targetUrls(): readonly string[] {
    return this.targets.map((t) => t.url);
  }

  /** Replaces the targets; a scrape in progress finishes with the old ones. */
  setTargets(targets: ReadonlyArray<string | TargetWithLabels>): void {
    this.targets = targets.map(withLabels);
    const urls = new Set(this.targets.map((t) => t.url));
    for (const url of Object.keys(this.counters.up)) if (!urls.has(url)) delete this.counters.up[url];
  }

  /** Scrapes every target once, concurrently; never rejects (failures are in the report). */
  async scrapeAll(): Promise<ScrapeReport> {
    const started_ms = Date.now();
    const reports = await Promise.all(this.targets.map((t) => this.scrapeOne(t)));
    return {
      started_ms,
      duration_ms: Date.now() - started_ms,
      targets: reports,
      published: reports.reduce((n, r) => n + r.published, 0),
      failed_targets: reports.filter((r) => !r.ok).length,
    };
  }

  /** Scrapes every `intervalMs`; a tick is skipped while the previous scrape still runs. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.scrapeAll().finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, intervalMs);
    tick();
  }

  /** Stops the schedule and waits for a scrape in progress to publish. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  stats(): ScraperStats {
    return { ...this.counters, up: { ...this.counters.up } };
  }

  private async scrapeOne(target: TargetWithLabels): Promise<TargetReport> {
    const { url } = target;
    const { source, format, topic } = this.kind;
    const t0 = Date.now();
    const report: TargetReport = { url, ok: false, duration_ms: 0, samples: 0, parse_errors: 0, records: 0, published: 0 };
    const c = this.counters;
    c.scrapes++;
    try {
      const res = await fetch(url, {
        headers: { accept: 'text/plain;version=0.0.4;q=1,*/*;q=0.1' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      report.status = res.status;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const text = await readLimited(res, this.maxBodyBytes);
      const parsed = parsePrometheusText(text, url);
      report.samples = parsed.samples.length;
      report.parse_errors = parsed.errors.length;
      const converted = this.kind.convert(parsed.samples, t0, target);
      const rejected = parsed.errors.length + converted.rejected;
      c.received += parsed.samples.length + parsed.errors.length;
      c.rejected += rejected;
      this.telemetry?.received(source, format, parsed.samples.length + parsed.errors.length);
      this.telemetry?.rejected(source, format, rejected);
      if (parsed.errors.length > 0) {
        this.log.warn('scraped lines rejected', { url, rejected: parsed.errors.length, first: parsed.errors[0]!.message });
      }
      const records = converted.records;
      report.records = records.length;
      try {
        await this.bus.publish(topic, records);
      } catch (e) {
        c.dropped += records.length;
        this.telemetry?.dropped(source, format, records.length);
        throw e;
      }
      this.telemetry?.published(source, format, records.length);
      report.published = records.length;
      c.published += records.length;
      report.ok = true;
    } catch (e) {
      const err = e as Error;
      report.error = err.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : err.message;
      c.failed_scrapes++;
      this.log.warn('scrape failed', { url, error: report.error });
    }
    c.up[url] = report.ok ? 1 : 0;
    report.duration_ms = Date.now() - t0;
    this.telemetry?.scrapeDuration(source, report.duration_ms / 1000);
    return report;
  }
}

function withLabels(t: string | TargetWithLabels): TargetWithLabels {
  return typeof t === 'string' ? { url: normaliseTarget(t), labels: {} } : { url: normaliseTarget(t.url), labels: t.labels };
}

/** `node-0:9400` → `http://node-0:9400/metrics`. */
export function normaliseTarget(target: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`;
  const u = new URL(withScheme);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/metrics';
  return u.toString();
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new Error(`response exceeds ${maxBytes} bytes`);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`response exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
