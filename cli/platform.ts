/**
 * Wires the parts into one running platform: store → bus → pipeline → collectors →
 * (optionally) the simulator → API. Each part is reached through its public entry point
 * only; this file is the one place that knows them all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Bus } from '../core/bus.js';
import type { Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Store } from '../core/store.js';
import { Topology, type TopologySpec } from '../core/topology.js';
import { startAlerting, type AlertingStage } from '../alerting/index.js';
import { createApiServer, type ListeningServer } from '../api/index.js';
import { CollectorService } from '../collectors/collector-service.js';
import { createKafkaBus, ExactlyOnceSink, NO_STORE, rolesOf, StageFilterBus } from '../pipeline/kafka/index.js';
import { MemoryBus } from '../pipeline/memory-bus.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import { Sink } from '../pipeline/sink.js';
import { ScenarioPlayer, type PlaySummary } from '../simulator/player.js';
import { loadScenario, type Scenario } from '../simulator/scenario.js';
import { createStore } from '../storage/index.js';
import { BusEventSource } from './bus-event-source.js';
import { renderPlatformMetrics } from './platform-metrics.js';

/** Where the package's own files (examples/) are, whether run from dist/ or via tsx. */
export const PACKAGE_ROOT = resolve(import.meta.dirname, existsSync(resolve(import.meta.dirname, '..', 'package.json')) ? '..' : '../..');
export const DEMO_SCENARIO = join(PACKAGE_ROOT, 'examples', 'demo.yaml');

export interface PlatformParts {
  store: Store;
  bus?: Bus;
  pipeline?: Pipeline;
  /** Determinism alert rules and their delivery (alerting/); absent with --alert-rules none. */
  alerting?: AlertingStage;
  /** Used instead of the pipeline when no topology is known: everything is still stored. */
  sink?: Sink;
  /** On Kafka, the sink role: exactly-once writes (pipeline/kafka/exactly-once-sink.ts). */
  kafkaSink?: ExactlyOnceSink;
  collectors?: CollectorService;
  player?: ScenarioPlayer;
  scenario?: Scenario;
  topology?: Topology;
  /** New stalls and alert changes for the API's live stream. */
  events?: BusEventSource;
  api?: ListeningServer;
}

export class Platform {
  private stopping?: Promise<void>;
  private playing?: Promise<PlaySummary>;

  private constructor(
    readonly config: Config,
    readonly parts: PlatformParts,
    private readonly logger: Logger,
  ) {}

  /** Store and API only, over existing data (`fabricscope serve`). */
  static async serve(config: Config, logger: Logger): Promise<Platform> {
    const store = await openStore(config, logger);
    // The topology the simulator (or a site) wrote beside the data, for /api/v1/topology.
    const topologyFile = config.topology ?? join(config.data, 'topology.json');
    const topology = existsSync(topologyFile) ? readTopology(topologyFile) : undefined;
    const platform = new Platform(config, { store, topology }, logger);
    await platform.startApi();
    return platform;
  }

  /**
   * Everything: collectors and pipeline on the in-process bus, the simulator unless
   * `--no-simulator`, and the API unless `withApi` is false (`fabricscope run`).
   */
  static async start(config: Config, logger: Logger, options: { withApi: boolean }): Promise<Platform> {
    // With --kafka a process runs only its roles (collect, correlate, sink, api); without, all.
    const roles = rolesOf(config);
    const scenario = config.simulator ? await loadScenario(config.scenario ?? DEMO_SCENARIO) : undefined;
    const topology = scenario ? new Topology(scenario.topology) : config.topology ? readTopology(config.topology) : undefined;
    const store = roles.has('sink') || roles.has('api') ? await openStore(config, logger) : NO_STORE;
    const bus = config.kafka
      ? await createKafkaBus(config, logger.child('kafka'))
      : new MemoryBus({ capacity: config.bus_capacity, logger: logger.child('bus') });
    const parts: PlatformParts = { store, bus, scenario, topology };
    if (config.kafka) {
      // The embedded sink gives up after its retries; on Kafka the exactly-once sink runs instead.
      const analysisBus = new StageFilterBus(bus, new Set(['sink']));
      if (topology && roles.has('correlate')) parts.pipeline = createPipeline({ bus: analysisBus, store, topology, logger });
      if (roles.has('correlate') && !topology) logger.warn('no topology (give --topology FILE or --scenario): this correlator analyses nothing');
      if (roles.has('sink')) {
        parts.kafkaSink = new ExactlyOnceSink(bus, store, logger.child('sink'));
        parts.kafkaSink.start();
      }
    } else if (topology) {
      parts.pipeline = createPipeline({ bus, store, topology, logger, sink: { telemetryLingerMs: config.sink_linger_ms } });
    } else {
      logger.warn('no topology (give --topology FILE): telemetry is stored but stalls are not analysed');
      parts.sink = new Sink(bus, store, logger.child('sink'), { telemetryLingerMs: config.sink_linger_ms });
      parts.sink.start();
    }
    // Alert rules run beside the analysis; they deliver to --alertmanager and --webhooks.
    if (roles.has('correlate')) {
      parts.alerting = startAlerting({ bus, topology, settings: { ...config, external_url: `http://${config.host}:${config.port}` }, logger });
    }

    const lockstep = scenario !== undefined && config.speed === 'max';
    const ncclDir = config.nccl_dir ?? (scenario ? join(config.data, 'nccl') : undefined);
    const scrapeInterval = config.scrape_interval_ms ?? scenario?.telemetry.gpu_interval_ms ?? 1_000;
    if (!roles.has('collect')) {
      const platform = new Platform(config, parts, logger);
      if (options.withApi && roles.has('api')) {
        parts.events = new BusEventSource(bus);
        await platform.startApi();
      }
      return platform;
    }
    // With an embedded emulator its GPU intervals drive the scrapes and NCCL reads (below): a
    // timer of the same period, out of phase with the emulated nodes, would read each update up
    // to one interval late, and a stall is judged only once every GPU's next scrape is in.
    parts.collectors = CollectorService.fromConfig(bus, { ...config, nccl_dir: ncclDir, scrape_interval_ms: scrapeInterval }, {
      logger,
      lockstep,
      drivenByCaller: scenario !== undefined,
    });
    await parts.collectors.start();

    if (scenario) {
      const collectors = parts.collectors;
      // In real time, t=0 is now, when the emulator starts, not when the file was first read (the
      // store took about a second to open since): event time then keeps to the wall clock. A file
      // that sets its own `start` reads the same again.
      const played = lockstep ? scenario : await loadScenario(config.scenario ?? DEMO_SCENARIO);
      parts.scenario = played;
      parts.player = new ScenarioPlayer({
        scenario: played,
        speed: config.speed,
        otlpUrl: collectors.otlpUrl,
        ncclDir,
        outDir: config.data,
        logger: logger.child('simulator'),
        hooks: {
          // Read the nodes and the NCCL files as soon as the emulator has updated them. At full
          // speed also let the pipeline catch up, so results are those of a real-time run.
          afterInterval: async (_eventMs, kind) => {
            if (kind !== 'gpu') return;
            if (!lockstep) {
              // A stall is judged once both its calls and the GPUs' next scrape are in: read both at once.
              await Promise.all([collectors.scrapeNow(), collectors.pollNcclNow()]);
              return;
            }
            await collectors.scrapeNow();
            await collectors.pollNcclNow();
            await bus.drain();
          },
        },
      });
      const { dcgmTargets } = await parts.player.start();
      collectors.addScrapeTargets(dcgmTargets);
    }

    const platform = new Platform(config, parts, logger);
    if (options.withApi && roles.has('api')) {
      parts.events = new BusEventSource(bus);
      await platform.startApi();
    }
    return platform;
  }

  /** Plays the scenario; resolves when it ends (never, for duration_s 0, until stop()). */
  play(): Promise<PlaySummary> {
    if (!this.parts.player) throw new Error('no simulator in this platform');
    this.playing ??= this.parts.player.run();
    return this.playing;
  }

  /**
   * End of a finite replay: reads the last NCCL lines, decides every pending stall and waits
   * until all of it is stored. (The last GPU interval was scraped in step; the emulated nodes'
   * endpoints are closed once the scenario ends.)
   */
  async finish(): Promise<void> {
    const { collectors, pipeline, alerting, bus } = this.parts;
    await collectors?.pollNcclNow();
    await bus?.drain();
    await pipeline?.flush();
    await bus?.drain();
    await alerting?.flush();
    await bus?.drain();
  }

  /** Clean shutdown: stop intake, store everything accepted, then close. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { player, collectors, pipeline, alerting, sink, kafkaSink, events, bus, api, store } = this.parts;
      player?.stop();
      await this.playing?.catch((e: unknown) => this.logger.error('simulator failed', { error: (e as Error).message }));
      await collectors?.stop();
      await bus?.drain();
      await pipeline?.flush();
      await alerting?.flush();
      await bus?.drain();
      await alerting?.stop();
      await pipeline?.stop();
      await sink?.stop();
      await kafkaSink?.stop();
      await events?.close();
      await bus?.close();
      await api?.close();
      await store.close();
      this.logger.info('stopped');
    })();
    return this.stopping;
  }

  private async startApi(): Promise<void> {
    const { store, collectors, pipeline, alerting, bus, events, topology } = this.parts;
    const server = createApiServer({
      store,
      logger: this.logger,
      host: this.config.host,
      apiTokens: this.config.api_tokens,
      events,
      topology,
      live: {
        ready: () => this.stopping === undefined,
        metrics: async () =>
          renderPlatformMetrics({ pipeline: pipeline?.stats(), alerting: alerting?.stats(), bus: bus?.stats() }) + ((await collectors?.metricsText()) ?? ''),
      },
    });
    this.parts.api = await server.listen(this.config.host, this.config.port);
  }
}

async function openStore(config: Config, logger: Logger): Promise<Store> {
  const store = createStore({
    data: config.data,
    clickhouse: config.clickhouse,
    cluster: config.clickhouse_cluster,
    replicated: config.clickhouse_replicated,
    zookeeperPath: config.clickhouse_zookeeper_path,
    distributed: config.clickhouse_distributed,
    resultCacheItems: config.result_cache_items,
    logger: logger.child('storage'),
  });
  await store.migrate();
  return store;
}

function readTopology(file: string): Topology {
  let spec: TopologySpec;
  try {
    spec = JSON.parse(readFileSync(file, 'utf8')) as TopologySpec;
  } catch (e) {
    throw new ConfigError(`cannot read topology: ${(e as Error).message}`, file);
  }
  return new Topology(spec);
}
