/**
 * The collectors of one process, for one Bus: the OTLP/HTTP receiver (switch metrics and
 * NCCL posts), the OTLP/gRPC receiver (switch metrics; both share one normaliser, so a
 * switch's counters have one history), the dcgm-exporter scraper and the NCCL Inspector
 * directory tailer, plus their self-telemetry (`metricsText()`).
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
import { CollectorTelemetry } from './collector-telemetry.js';
import { DcgmScraper, normaliseTarget, type DcgmScraperStats, type ScrapeReport, type TargetWithLabels } from './dcgm/dcgm-scraper.js';
import { FlightRecorderCollector, type FlightRecorderStats } from './nccl/flight-recorder-collector.js';
import { NcclPromScraper } from './nccl/nccl-prom-scraper.js';
import { NcclTailer, type NcclTailerStats } from './nccl/nccl-tailer.js';
import { OtlpGrpcReceiver } from './otlp/otlp-grpc-receiver.js';
import { OtlpMetricsIngest } from './otlp/otlp-metrics-ingest.js';
import { OtlpReceiver, type OtlpReceiverStats } from './otlp/otlp-receiver.js';
import { readScrapeTargets, ScrapeTargetsFile } from './scrape-targets.js';

/**
 * How often the NCCL Inspector files are read in real time. A stall is judged only once its
 * calls are read, so this wait is part of the detection latency; a poll costs ~0.03 ms per file
 * (nccl-tailer.ts), ~10 ms of CPU a second at 64 ranks.
 */
const NCCL_POLL_INTERVAL_MS = 200;

export interface CollectorServiceOptions {
  bus: Bus;
  logger?: Logger;
  /** The OTLP/HTTP receiver; `false` to run without one. Port 0 picks a free port. */
  otlp?: { host?: string; port?: number; maxBodyBytes?: number } | false;
  /** The OTLP/gRPC receiver (default port 4317); absent or `false` to run without one. Port 0 picks a free port. */
  otlpGrpc?: {
    host?: string;
    port?: number;
    maxMessageBytes?: number;
    /** Keep going without it (a warning) when its port cannot be bound; default false. */
    optional?: boolean;
  } | false;
  /**
   * How long a switch sample missing some of its port's metric families (they come in another
   * export) waits for them before it is published as it is; default 1000 ms.
   */
  holdMs?: number;
  /**
   * dcgm-exporter targets: a static list and/or a targets file, re-read when it changes
   * (scrape-targets.ts). Without `intervalMs`, scraping happens only on `scrapeNow()`.
   */
  scrape?: {
    targets: ReadonlyArray<string | TargetWithLabels>;
    file?: string;
    /** How often the targets file is checked when no change event came; default 5000 ms. */
    fileCheckIntervalMs?: number;
    intervalMs?: number;
    timeoutMs?: number;
    maxBodyBytes?: number;
  };
  /** NCCL Inspector dump directory. Without `pollIntervalMs`, only `pollNcclNow()` reads it. */
  nccl?: { dir: string; pollIntervalMs?: number };
  /**
   * NCCL Inspector Prometheus-mode endpoints. Without `intervalMs`, scraping happens only on
   * `scrapeNcclNow()`; `windowMs` (default: the interval, else 30 s) groups ranks' summaries.
   */
  /** A directory of PyTorch Flight Recorder JSON dumps. Without `pollIntervalMs`, only `pollNcclNow()` reads it. */
  flightRecorder?: { dir: string; pollIntervalMs?: number };
  ncclScrape?: { targets: readonly string[]; intervalMs?: number; windowMs?: number; timeoutMs?: number; maxBodyBytes?: number };
}

export interface CollectorServiceStats {
  /** OTLP metrics over HTTP and gRPC together. */
  otlp: OtlpReceiverStats['metrics'] | undefined;
  dcgm: DcgmScraperStats | undefined;
  /** Files and HTTP posts together; the parts are under `files` and `http`. */
  nccl: CollectorCounters & { p2p_skipped: number; files?: NcclTailerStats; http?: OtlpReceiverStats['nccl']; prometheus?: DcgmScraperStats; flight_recorder: FlightRecorderStats };
}

export class CollectorService {
  readonly otlp?: OtlpReceiver;
  readonly otlpGrpc?: OtlpGrpcReceiver;
  /** Shared by both OTLP receivers. */
  readonly otlpIngest: OtlpMetricsIngest;
  readonly telemetry = new CollectorTelemetry();
  readonly dcgm?: DcgmScraper;
  /** The watched dcgm targets file, when one is configured. */
  readonly targetsFile?: ScrapeTargetsFile;
  /** dcgm targets by origin: configured, from the file, added at run time (emulator). */
  private readonly targetSets: { static: ReadonlyArray<string | TargetWithLabels>; file: ReadonlyArray<string | TargetWithLabels>; added: string[] } = {
    static: [],
    file: [],
    added: [],
  };
  readonly nccl?: NcclTailer;
  readonly ncclScraper?: NcclPromScraper;
  /** Flight Recorder dumps, posted and (when configured) from a directory. */
  readonly flightRecorder: FlightRecorderCollector;
  private readonly options: CollectorServiceOptions;
  private readonly log: Logger;
  private started = false;
  private holdTimer?: NodeJS.Timeout;
  /** The optional gRPC receiver could not bind its port. */
  private grpcFailed = false;

  constructor(options: CollectorServiceOptions) {
    this.options = options;
    this.log = options.logger ?? createLogger('info', 'collectors');
    const { bus } = options;
    const telemetry = this.telemetry;
    telemetry.observeBusLag(() => bus.stats().lag);
    this.otlpIngest = new OtlpMetricsIngest(bus, this.log.child('otlp'), { telemetry });
    this.flightRecorder = new FlightRecorderCollector({ bus, dir: options.flightRecorder?.dir, logger: this.log.child('flight_recorder'), telemetry });
    if (options.otlp !== false) {
      const o = options.otlp ?? {};
      this.otlp = new OtlpReceiver({ bus, host: o.host, port: o.port, maxBodyBytes: o.maxBodyBytes, logger: this.log.child('otlp'), ingest: this.otlpIngest, telemetry, flightRecorder: this.flightRecorder });
    }
    if (options.otlpGrpc) {
      const g = options.otlpGrpc;
      this.otlpGrpc = new OtlpGrpcReceiver({ bus, host: g.host, port: g.port, maxMessageBytes: g.maxMessageBytes, logger: this.log.child('otlp_grpc'), ingest: this.otlpIngest, telemetry });
    }
    // A scraper exists whenever scraping is configured, even with no targets yet: an emulated
    // fabric announces its dcgm endpoints only once they listen (addScrapeTargets).
    if (options.scrape) {
      const s = options.scrape;
      this.targetSets.static = s.targets;
      // Read now, so a bad file fails the start-up with its line; watched from start().
      if (s.file) this.targetSets.file = readScrapeTargets(s.file);
      this.dcgm = new DcgmScraper({ bus, targets: this.allTargets(), timeoutMs: s.timeoutMs, maxBodyBytes: s.maxBodyBytes, logger: this.log.child('dcgm'), telemetry });
      if (s.file) {
        this.targetsFile = new ScrapeTargetsFile({
          file: s.file,
          checkIntervalMs: s.fileCheckIntervalMs,
          logger: this.log.child('dcgm'),
          onChange: (targets) => {
            this.targetSets.file = targets;
            this.dcgm!.setTargets(this.allTargets());
          },
        });
      }
    }
    if (options.nccl) {
      this.nccl = new NcclTailer({ bus, dir: options.nccl.dir, logger: this.log.child('nccl'), telemetry });
    }
    if (options.ncclScrape) {
      const n = options.ncclScrape;
      this.ncclScraper = new NcclPromScraper({
        bus, targets: n.targets, windowMs: n.windowMs ?? n.intervalMs, timeoutMs: n.timeoutMs, maxBodyBytes: n.maxBodyBytes, logger: this.log.child('nccl'), telemetry,
      });
    }
  }

  /**
   * Builds the service from the platform config. `lockstep` (default: when speed is "max") is a
   * full-speed replay; `drivenByCaller` (default: lockstep) leaves scraping and NCCL polling to
   * the caller (NCCL Prometheus-mode scraping stays on its timer unless lockstep), e.g. an
   * embedded emulator that says when its nodes and files have new data.
   */
  static fromConfig(bus: Bus, config: Config, options: { logger?: Logger; lockstep?: boolean; drivenByCaller?: boolean } = {}): CollectorService {
    const lockstep = options.lockstep ?? config.speed === 'max';
    const driven = options.drivenByCaller ?? lockstep;
    return new CollectorService({
      bus,
      logger: options.logger,
      otlp: { host: config.host, port: config.otlp_http_port, maxBodyBytes: config.max_body_bytes },
      // A lockstep replay's only sender is the emulator, which posts over HTTP: a taken gRPC
      // port (another instance on this machine) must not abort the replay.
      otlpGrpc: { host: config.host, port: config.otlp_grpc_port, maxMessageBytes: config.max_body_bytes, optional: lockstep },
      scrape: {
        targets: config.scrape,
        file: config.scrape_file,
        fileCheckIntervalMs: config.scrape_file_check_ms,
        intervalMs: driven ? undefined : (config.scrape_interval_ms ?? 1_000),
        maxBodyBytes: config.max_body_bytes,
      },
      nccl: config.nccl_dir ? { dir: config.nccl_dir, pollIntervalMs: driven ? undefined : NCCL_POLL_INTERVAL_MS } : undefined,
      flightRecorder: config.flight_recorder_dir ? { dir: config.flight_recorder_dir, pollIntervalMs: driven ? undefined : 2_000 } : undefined,
      ncclScrape: config.nccl_scrape.length > 0
        ? { targets: config.nccl_scrape, intervalMs: lockstep ? undefined : config.nccl_scrape_interval_ms, windowMs: config.nccl_scrape_interval_ms, maxBodyBytes: config.max_body_bytes }
        : undefined,
    });
  }

  /** Starts every configured collector; resolves once the OTLP receivers listen. */
  async start(): Promise<{ otlp?: { host: string; port: number }; otlpGrpc?: { host: string; port: number } }> {
    const address = this.otlp ? await this.otlp.start() : undefined;
    let grpcAddress: { host: string; port: number } | undefined;
    try {
      grpcAddress = this.otlpGrpc ? await this.otlpGrpc.start() : undefined;
    } catch (e) {
      if (this.options.otlpGrpc && this.options.otlpGrpc.optional) {
        this.log.warn('OTLP/gRPC receiver not started; going on without it', { error: (e as Error).message });
        this.grpcFailed = true;
      } else {
        await this.otlp?.stop();
        throw e;
      }
    }
    const holdMs = this.options.holdMs ?? 1_000;
    this.holdTimer = setInterval(() => {
      this.otlpIngest.flush(holdMs).catch((e) => this.log.warn('held port samples not published yet', { error: (e as Error).message }));
    }, holdMs);
    this.holdTimer.unref();
    if (this.targetsFile) {
      try {
        this.targetSets.file = this.targetsFile.start();
        this.dcgm!.setTargets(this.allTargets());
      } catch (e) {
        this.log.warn('targets file not usable at start; keeping the targets read before', { error: (e as Error).message });
      }
    }
    const scrapeEvery = this.options.scrape?.intervalMs;
    if (this.dcgm && scrapeEvery) this.dcgm.start(scrapeEvery);
    const ncclScrapeEvery = this.options.ncclScrape?.intervalMs;
    if (this.ncclScraper && ncclScrapeEvery) this.ncclScraper.start(ncclScrapeEvery);
    const dumpsEvery = this.options.flightRecorder?.pollIntervalMs;
    if (dumpsEvery) this.flightRecorder.start(dumpsEvery);
    const pollEvery = this.options.nccl?.pollIntervalMs;
    if (this.nccl && pollEvery) this.nccl.start(pollEvery);
    this.started = true;
    this.log.info('collectors started', {
      otlp: this.otlp?.url,
      otlp_grpc: this.grpcFailed ? undefined : this.otlpGrpc?.url,
      scrape_targets: this.dcgm?.targetUrls.length ?? 0,
      nccl_dir: this.nccl?.dir,
      nccl_scrape_targets: this.ncclScraper?.targetUrls.length ?? 0,
    });
    return { otlp: address, otlpGrpc: grpcAddress };
  }

  /**
   * Stops intake and publishes what was accepted: in-flight OTLP requests finish, a running
   * scrape completes, and the NCCL files are read one last time.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.holdTimer);
    await this.targetsFile?.stop();
    await Promise.all([this.otlp?.stop(), this.grpcFailed ? undefined : this.otlpGrpc?.stop(), this.dcgm?.stop(), this.nccl?.stop(), this.ncclScraper?.stop(), this.flightRecorder.stop()]);
    // Samples held for families that never came: publish them as they are.
    await this.otlpIngest.flush().catch((e) => this.log.error('held port samples lost at shutdown', { error: (e as Error).message }));
    this.log.info('collectors stopped', { stats: this.stats() });
  }

  /** Adds dcgm-exporter targets to scrape from now on (e.g. the emulator's node endpoints). */
  addScrapeTargets(targets: readonly string[]): void {
    if (!this.dcgm) throw new Error('scraping is not configured for this collector service');
    this.targetSets.added = [...new Set([...this.targetSets.added, ...targets])];
    this.dcgm.setTargets(this.allTargets());
  }

  /** Every dcgm target, each URL once (the first origin's labels win). */
  private allTargets(): Array<string | TargetWithLabels> {
    const seen = new Set<string>();
    const out: Array<string | TargetWithLabels> = [];
    for (const t of [...this.targetSets.static, ...this.targetSets.file, ...this.targetSets.added]) {
      const url = normaliseTarget(typeof t === 'string' ? t : t.url);
      if (seen.has(url)) continue;
      seen.add(url);
      out.push(t);
    }
    return out;
  }

  /** Lockstep: scrape every dcgm-exporter target once. */
  async scrapeNow(): Promise<ScrapeReport> {
    if (!this.dcgm) return { started_ms: Date.now(), duration_ms: 0, targets: [], published: 0, failed_targets: 0 };
    return this.dcgm.scrapeAll();
  }

  /** Lockstep: scrape every NCCL Inspector Prometheus-mode target once. */
  async scrapeNcclNow(): Promise<ScrapeReport> {
    if (!this.ncclScraper) return { started_ms: Date.now(), duration_ms: 0, targets: [], published: 0, failed_targets: 0 };
    return this.ncclScraper.scrapeAll();
  }

  /** Lockstep: read every new complete NCCL Inspector line; resolves with events published. */
  async pollNcclNow(): Promise<number> {
    const [lines, dumps] = await Promise.all([this.nccl ? this.nccl.poll() : 0, this.flightRecorder.poll()]);
    return lines + dumps;
  }

  /** The OTLP receiver's base URL (`http://127.0.0.1:4318`), once started. */
  get otlpUrl(): string | undefined {
    return this.otlp?.url;
  }

  /** The OTLP/gRPC receiver's endpoint (`http://127.0.0.1:4317`), once started. */
  get otlpGrpcUrl(): string | undefined {
    return this.grpcFailed ? undefined : this.otlpGrpc?.url;
  }

  /** The collectors' self-telemetry as Prometheus text (to append to the platform's /metrics). */
  metricsText(): Promise<string> {
    return this.telemetry.renderPrometheus();
  }

  stats(): CollectorServiceStats {
    const otlp = this.otlp?.stats();
    const files = this.nccl?.stats();
    const http = otlp?.nccl;
    const prometheus = this.ncclScraper?.stats();
    const flight_recorder = this.flightRecorder.stats();
    const sum = (k: keyof CollectorCounters) => (files?.[k] ?? 0) + (http?.[k] ?? 0) + (prometheus?.[k] ?? 0) + flight_recorder[k];
    return {
      otlp: this.otlp || this.otlpGrpc ? { ...this.otlpIngest.counters } : undefined,
      dcgm: this.dcgm?.stats(),
      nccl: {
        received: sum('received'),
        rejected: sum('rejected'),
        published: sum('published'),
        dropped: sum('dropped'),
        p2p_skipped: (files?.p2p_skipped ?? 0) + (http?.p2p_skipped ?? 0),
        files,
        http,
        prometheus,
        flight_recorder,
      },
    };
  }
}
