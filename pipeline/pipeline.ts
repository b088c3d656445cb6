/**
 * The pipeline's wiring: each stage is a consumer group on the bus.
 *   port_samples      → group `episodes`    : port watermark, port history, congestion episodes
 *   gpu_samples       → group `gpu-history` : GPU watermark, GPU history
 *   collective_events → group `stalls`      : placement, stall detection
 *   every topic       → group `sink`        : the Store
 * Closed episodes are published on `congestion_episodes`; attributed stalls on `stalls`. Whichever
 * stage moves a watermark lets the correlator release the stalls whose evidence is now in.
 *
 * The stages share in-process state (the correlator reads the port history the `episodes` group
 * writes), so with Kafka the three analysis groups must run in one process per partition set.
 */
import type { Bus, Subscription } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import { storedOf, type CongestionEpisode, type GpuSample, type PortSample, type Stall, type StallProgress, type StallStreamRecord, type Topic, type TopicRecords } from '../core/records.js';
import type { Store } from '../core/store.js';
import type { Topology } from '../core/topology.js';
import { EpisodeTracker, type EpisodeView } from './congestion-episodes.js';
import { Correlator } from './correlator.js';
import { PlacementRegistry } from './placement.js';
import { RecentSamples } from './recent-samples.js';
import { Sink, type SinkOptions, type SinkStats } from './sink.js';
import { StallDetector, type StallDetectorStats } from './stall-detector.js';
import { Watermark } from './watermark.js';

/** A switch silent for 5 s of event time (50 intervals) no longer holds the port watermark back. */
export const PORT_IDLE_TIMEOUT_MS = 5_000;
/** A GPU silent for 10 s (10 scrapes) no longer holds the GPU watermark back. */
export const GPU_IDLE_TIMEOUT_MS = 10_000;
/** Port and GPU samples kept for attribution behind the watermark (a stall's window is far shorter). */
export const HISTORY_RETENTION_MS = 30_000;
/** A sample interval longer than this is a gap in the series (a switch restarted), not its cadence. */
const MAX_SWITCH_INTERVAL_MS = 10_000;
/** Attempts to publish a stage's output before it is logged and dropped. */
const PUBLISH_ATTEMPTS = 5;

export interface PipelineOptions {
  bus: Bus;
  store: Store;
  topology: Topology;
  logger: Logger;
  sink?: SinkOptions;
}

export interface PipelineStats {
  ingested: { port_samples: number; gpu_samples: number; collective_events: number };
  late: { port_samples: number; gpu_samples: number; collective_events: number };
  watermarks_ms: { port: number | null; gpu: number | null; collective: number | null };
  episodes: ReturnType<EpisodeTracker['stats']>;
  calls: StallDetectorStats;
  stalls: ReturnType<Correlator['stats']>;
  published: { congestion_episodes: number; stalls: number; dropped: number };
  sink: SinkStats;
}

export interface Pipeline {
  /** End of stream: closes open episodes, decides every pending call and stall, drains the bus. */
  flush(): Promise<void>;
  stats(): PipelineStats;
  /** Live view for the API: recent congestion episodes (open ones included) overlapping [from, to]. */
  episodes(from_ms: number, to_ms: number, port?: string): EpisodeView[];
  /** Stops every stage's subscription (the bus itself belongs to the caller). */
  stop(): Promise<void>;
}

export function createPipeline(options: PipelineOptions): Pipeline {
  const { bus, store, topology } = options;
  const logger = options.logger.child('pipeline');
  // Each stream's sources may be taken for idle only when its subscription has nothing waiting
  // (core/bus.ts): the subscriptions are made below, before any record can arrive.
  const inputs: Partial<Record<'port' | 'gpu' | 'collective', Subscription>> = {};
  const caughtUp = (stream: keyof typeof inputs) => () => inputs[stream]?.hasBacklog() === false;
  const portWatermark = new Watermark({ idleTimeoutMs: PORT_IDLE_TIMEOUT_MS, idleAllowed: caughtUp('port') });
  const gpuWatermark = new Watermark({ idleTimeoutMs: GPU_IDLE_TIMEOUT_MS, idleAllowed: caughtUp('gpu') });
  // Partitions are read in no fixed order: a device first read after the others must not be late.
  portWatermark.expect(topology.switches());
  gpuWatermark.expect(topology.gpus());
  const portHistory = new RecentSamples<PortSample>((s) => s.ts_ms, HISTORY_RETENTION_MS);
  const gpuHistory = new RecentSamples<GpuSample>((s) => s.ts_ms, HISTORY_RETENTION_MS);
  const episodes = new EpisodeTracker();
  let switchIntervalMs = 0;
  const placement = new PlacementRegistry();
  const detector = new StallDetector(placement, caughtUp('collective'));
  const correlator = new Correlator({
    topology,
    episodes,
    portHistory,
    gpuHistory,
    portWatermark,
    gpuWatermark,
    collectiveWatermark: () => detector.watermark(),
    switchIntervalMs: () => switchIntervalMs,
  });
  const sink = new Sink(bus, store, logger.child('sink'), options.sink);
  const ingested = { port_samples: 0, gpu_samples: 0, collective_events: 0 };
  const published = { congestion_episodes: 0, stalls: 0, dropped: 0 };

  async function publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    if (records.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await bus.publish(topic, records);
        if (topic === 'congestion_episodes') published.congestion_episodes += records.length;
        else if (topic === 'stalls') published.stalls += storedOf('stalls', records as StallStreamRecord[]).length;
        return;
      } catch (e) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          published.dropped += records.length;
          logger.error('could not publish stage output', { topic, records: records.length, error: (e as Error).message });
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }

  const publishEpisodes = (eps: CongestionEpisode[]) => publish('congestion_episodes', eps);
  /** Per job, the stall progress last published (core/records.ts StallProgress). */
  const progressSent = new Map<string, number>();
  /** Publishes released stalls followed, in the same batch, by each job's progress that moved. */
  const publishStalls = (stalls: Stall[]) => {
    for (const s of stalls) {
      logger.debug('stall', { id: s.id, duration_us: s.duration_us, expected_us: s.expected_us, kind: s.root_cause.kind, location: s.root_cause.location });
    }
    const progress: StallProgress[] = [];
    const held = correlator.releasedBefore();
    for (const job of detector.jobIds()) {
      const through = Math.min(detector.decidedThrough(job), held.get(job) ?? Number.POSITIVE_INFINITY);
      if (!Number.isFinite(through) || through <= (progressSent.get(job) ?? Number.NEGATIVE_INFINITY)) continue;
      progressSent.set(job, through);
      progress.push({ job, through_ms: through });
    }
    return publish('stalls', [...stalls, ...progress]);
  };

  inputs.port = bus.subscribe('port_samples', 'episodes', async (batch) => {
    ingested.port_samples += batch.length;
    const fresh: PortSample[] = [];
    for (const s of batch) {
      if (portWatermark.observe(s.device, s.ts_ms)) continue; // late: stored by the sink, not analysed
      portHistory.add(s.port, s);
      if (s.interval_ms > switchIntervalMs && s.interval_ms <= MAX_SWITCH_INTERVAL_MS) switchIntervalMs = s.interval_ms;
      fresh.push(s);
    }
    const closed = episodes.ingest(fresh);
    closed.push(...episodes.advance(portWatermark.current()));
    await publishEpisodes(closed);
    await publishStalls(correlator.release());
  });
  inputs.gpu = bus.subscribe('gpu_samples', 'gpu-history', async (batch) => {
    ingested.gpu_samples += batch.length;
    for (const s of batch) {
      if (gpuWatermark.observe(s.gpu, s.ts_ms)) continue;
      gpuHistory.add(s.gpu, s);
    }
    await publishStalls(correlator.release());
  });
  inputs.collective = bus.subscribe('collective_events', 'stalls', async (batch) => {
    ingested.collective_events += batch.length;
    correlator.hold(detector.ingest(batch));
    await publishStalls(correlator.release());
  });
  const subs: Subscription[] = [inputs.port, inputs.gpu, inputs.collective];
  sink.start();

  return {
    async flush() {
      await bus.drain();
      await publishEpisodes(episodes.closeAll());
      correlator.hold(detector.flush());
      await publishStalls(correlator.release(true));
      await bus.drain();
    },
    stats() {
      const wm = (v: number) => (Number.isFinite(v) ? v : null);
      return {
        ingested: { ...ingested },
        late: { port_samples: portWatermark.late, gpu_samples: gpuWatermark.late, collective_events: detector.stats().late_events },
        watermarks_ms: { port: wm(portWatermark.current()), gpu: wm(gpuWatermark.current()), collective: wm(detector.watermark()) },
        episodes: episodes.stats(),
        calls: detector.stats(),
        stalls: correlator.stats(),
        published: { ...published },
        sink: sink.stats(),
      };
    },
    episodes: (from, to, port) => episodes.overlapping(from, to, port),
    async stop() {
      await Promise.all(subs.splice(0).map((s) => s.close()));
      await sink.stop();
    },
  };
}
