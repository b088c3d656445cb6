/**
 * The collectors of one process, for one Bus: the OTLP/HTTP receiver (switch metrics and
 * NCCL posts), the dcgm-exporter scraper and the NCCL Inspector directory tailer.
 *
 * Two ways to run: real time (`start()` with intervals set: the scraper and tailer run on
 * timers) and lockstep (no intervals: the orchestrator of a full-speed replay calls
 * `scrapeNow()` and `pollNcclNow()` after each simulated step). `stop()` stops intake and
 * publishes everything already accepted before it resolves.
 */
import type { Bus } from '../core/bus.js';
import type { Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/log.js';
import type { CollectorCounters } from './collector-stats.js';
import { DcgmScraper, type DcgmScraperStats, type ScrapeReport } from './dcgm/dcgm-scraper.js';
import { NcclTailer, type NcclTailerStats } from './nccl/nccl-tailer.js';
import { OtlpReceiver, type OtlpReceiverStats } from './otlp/otlp-receiver.js';
import { readScrapeTargets } from './scrape-targets.js';

export interface CollectorServiceOptions {
  bus: Bus;
  logger?: Logger;
  /** The OTLP/HTTP receiver; `false` to run without one. Port 0 picks a free port. */
  otlp?: { host?: string; port?: number; maxBodyBytes?: number } | false;
  /** dcgm-exporter targets. Without `intervalMs`, scraping happens only on `scrapeNow()`. */
  scrape?: { targets: readonly string[]; intervalMs?: number; timeoutMs?: number; maxBodyBytes?: number };
  /** NCCL Inspector dump directory. Without `pollIntervalMs`, only `pollNcclNow()` reads it. */
  nccl?: { dir: string; pollIntervalMs?: number };
}

export interface CollectorServiceStats {
  otlp: OtlpReceiverStats['metrics'] | undefined;
  dcgm: DcgmScraperStats | undefined;
  /** Files and HTTP posts together; the parts are under `files` and `http`. */
  nccl: CollectorCounters & { p2p_skipped: number; files?: NcclTailerStats; http?: OtlpReceiverStats['nccl'] };
}

export class CollectorService {
  readonly otlp?: OtlpReceiver;
  readonly dcgm?: DcgmScraper;
  readonly nccl?: NcclTailer;
  private readonly options: CollectorServiceOptions;
  private readonly log: Logger;
  private started = false;

  constructor(options: CollectorServiceOptions) {
    this.options = options;
    this.log = options.logger ?? createLogger('info', 'collectors');
    const { bus } = options;
    if (options.otlp !== false) {
      const o = options.otlp ?? {};
      this.otlp = new OtlpReceiver({ bus, host: o.host, port: o.port, maxBodyBytes: o.maxBodyBytes, logger: this.log.child('otlp') });
    }
    if (options.scrape && options.scrape.targets.length > 0) {
      const s = options.scrape;
      this.dcgm = new DcgmScraper({ bus, targets: s.targets, timeoutMs: s.timeoutMs, maxBodyBytes: s.maxBodyBytes, logger: this.log.child('dcgm') });
    }
    if (options.nccl) {
      this.nccl = new NcclTailer({ bus, dir: options.nccl.dir, logger: this.log.child('nccl') });
    }
  }

  /**
   * Builds the service from the platform config. `lockstep` (default: when speed is "max")
   * leaves scraping and NCCL polling to the caller.
   */
  static fromConfig(bus: Bus, config: Config, options: { logger?: Logger; lockstep?: boolean } = {}): CollectorService {
    const lockstep = options.lockstep ?? config.speed === 'max';
    const targets = [...config.scrape, ...(config.scrape_file ? readScrapeTargets(config.scrape_file) : [])];
    return new CollectorService({
      bus,
      logger: options.logger,
      otlp: { host: config.host, port: config.otlp_http_port, maxBodyBytes: config.max_body_bytes },
      scrape: { targets, intervalMs: lockstep ? undefined : (config.scrape_interval_ms ?? 1_000), maxBodyBytes: config.max_body_bytes },
      nccl: config.nccl_dir ? { dir: config.nccl_dir, pollIntervalMs: lockstep ? undefined : 500 } : undefined,
    });
  }

  /** Starts every configured collector; resolves once the OTLP receiver listens. */
  async start(): Promise<{ otlp?: { host: string; port: number } }> {
    const address = this.otlp ? await this.otlp.start() : undefined;
    const scrapeEvery = this.options.scrape?.intervalMs;
    if (this.dcgm && scrapeEvery) this.dcgm.start(scrapeEvery);
    const pollEvery = this.options.nccl?.pollIntervalMs;
    if (this.nccl && pollEvery) this.nccl.start(pollEvery);
    this.started = true;
    this.log.info('collectors started', {
      otlp: this.otlp?.url,
      scrape_targets: this.dcgm?.targetUrls.length ?? 0,
      nccl_dir: this.nccl?.dir,
    });
    return { otlp: address };
  }

  /**
   * Stops intake and publishes what was accepted: in-flight OTLP requests finish, a running
   * scrape completes, and the NCCL files are read one last time.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await Promise.all([this.otlp?.stop(), this.dcgm?.stop(), this.nccl?.stop()]);
    this.log.info('collectors stopped', { stats: this.stats() });
  }

  /** Lockstep: scrape every dcgm-exporter target once. */
  async scrapeNow(): Promise<ScrapeReport> {
    if (!this.dcgm) return { started_ms: Date.now(), duration_ms: 0, targets: [], published: 0, failed_targets: 0 };
    return this.dcgm.scrapeAll();
  }

  /** Lockstep: read every new complete NCCL Inspector line; resolves with events published. */
  async pollNcclNow(): Promise<number> {
    return this.nccl ? this.nccl.poll() : 0;
  }

  /** The OTLP receiver's base URL (`http://127.0.0.1:4318`), once started. */
  get otlpUrl(): string | undefined {
    return this.otlp?.url;
  }

  stats(): CollectorServiceStats {
    const otlp = this.otlp?.stats();
    const files = this.nccl?.stats();
    const http = otlp?.nccl;
    const sum = (k: keyof CollectorCounters) => (files?.[k] ?? 0) + (http?.[k] ?? 0);
    return {
      otlp: otlp?.metrics,
      dcgm: this.dcgm?.stats(),
      nccl: {
        received: sum('received'),
        rejected: sum('rejected'),
        published: sum('published'),
        dropped: sum('dropped'),
        p2p_skipped: (files?.p2p_skipped ?? 0) + (http?.p2p_skipped ?? 0),
        files,
        http,
      },
    };
  }
}
