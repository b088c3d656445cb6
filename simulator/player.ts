/**
 * Plays a scenario: drives the engine interval by interval and hands each sample to the
 * exporters (OTLP push per switch, dcgm-exporter endpoints per node, NCCL Inspector files).
 * In `max` mode it runs as fast as the receivers answer and awaits the `afterInterval` hook after
 * each export, so an orchestrator can scrape and poll in lockstep with event time. Otherwise it
 * paces simulated time = (wall − wallStart) × speed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log.js';
import { asFabricscopeError } from '../core/errors.js';
import { SimulationEngine } from './engine.js';
import { DcgmEndpoint } from './exporters/dcgm-endpoint.js';
import { TelemetryExportThread, type ExportResult } from './exporters/telemetry-export-thread.js';
import { writeGroundTruth, writeTopology } from './ground-truth.js';
import type { GpuSnapshot } from './outputs.js';
import type { Scenario } from './scenario.js';

export interface PlayerHooks {
  afterInterval?(eventTimeMs: number, kind: 'switch' | 'gpu'): Promise<void>;
}

export interface ScenarioPlayerOptions {
  scenario: Scenario;
  /** Factor of real time, or 'max' for as fast as possible. Default 1. */
  speed?: number | 'max';
  /** OTLP/HTTP base URL, e.g. http://127.0.0.1:4318; switch telemetry is skipped without it. */
  otlpUrl?: string;
  /** Where NCCL Inspector logs go; skipped without it. */
  ncclDir?: string;
  /** Where ground-truth.json and topology.json go; skipped without it. */
  outDir?: string;
  logger?: Logger;
  hooks?: PlayerHooks;
  /** Host for the dcgm endpoints (default 127.0.0.1). */
  dcgmHost?: string;
}

export interface PlaySummary {
  scenario: string;
  simulated_s: number;
  wall_s: number;
  records: {
    switch_samples: number;
    port_samples: number;
    gpu_samples: number;
    collective_records: number;
    ground_truth_faults: number;
  };
  otlp_export_failures: number;
}

export class ScenarioPlayer {
  readonly engine: SimulationEngine;
  private readonly opts: ScenarioPlayerOptions;
  private readonly speed: number | 'max';
  private readonly dcgm: DcgmEndpoint[];
  /** OTLP pushes of the switch rounds and NCCL Inspector files, on a worker thread. */
  private readonly exportThread?: TelemetryExportThread;
  /** The switch round the export thread is still on (one at a time, in order). */
  private switchRoundInFlight?: Promise<void>;
  private stopRequested = false;
  private wakeStop?: () => void;
  private started = false;
  private closed = false;
  private groundTruthCount = -1;
  private readonly counts = { switch_samples: 0, port_samples: 0, gpu_samples: 0, collective_records: 0, ground_truth_faults: 0 };
  private otlpFailures = 0;

  constructor(options: ScenarioPlayerOptions) {
    this.opts = options;
    this.speed = options.speed ?? 1;
    if (this.speed !== 'max' && !(this.speed > 0)) throw new Error(`speed must be a positive number or 'max' (got ${this.speed})`);
    this.engine = new SimulationEngine(options.scenario);
    this.dcgm = Array.from({ length: options.scenario.topology.nodes }, (_, n) => new DcgmEndpoint(n));
    if (options.otlpUrl || options.ncclDir) {
      this.exportThread = new TelemetryExportThread({
        switches: options.otlpUrl ? { layout: this.engine.switchLayout, resetMs: this.engine.startMs, url: options.otlpUrl } : undefined,
        collectives: options.ncclDir ? { jobs: this.engine.collectiveLayouts, seed: options.scenario.seed, dir: options.ncclDir } : undefined,
      });
    }
  }

  /** Starts the dcgm endpoints (with a t=0 sample) and writes the topology. */
  async start(): Promise<{ dcgmTargets: string[] }> {
    if (this.started) throw new Error('ScenarioPlayer.start() called twice');
    this.started = true;
    this.publishGpus(this.engine.gpuSnapshot().gpus, this.engine.startMs);
    const dcgmTargets = await Promise.all(this.dcgm.map((d) => d.start(0, this.opts.dcgmHost)));
    if (this.opts.outDir) {
      await writeTopology(this.opts.outDir, this.engine.topology.spec);
      await this.updateGroundTruth();
    }
    this.opts.logger?.info('simulator started', { scenario: this.opts.scenario.name, dcgm_targets: dcgmTargets.length, speed: this.speed });
    return { dcgmTargets };
  }

  /** Plays to duration_s (or until stop() when duration_s is 0), then closes everything. */
  async run(): Promise<PlaySummary> {
    if (!this.started) await this.start();
    const wallStart = Date.now();
    const s = this.opts.scenario;
    const switchUs = s.telemetry.switch_interval_ms * 1000;
    const gpuUs = s.telemetry.gpu_interval_ms * 1000;
    const endUs = s.duration_s > 0 ? s.duration_s * 1e6 : Infinity;
    let nextSwitch = switchUs;
    let nextGpu = gpuUs;
    try {
      while (!this.stopRequested) {
        const t = Math.min(nextSwitch, nextGpu);
        if (t > endUs) break;
        if (this.speed !== 'max') {
          const due = wallStart + t / 1000 / this.speed;
          const wait = due - Date.now();
          if (wait > 0) await this.sleepUnlessStopped(wait);
          if (this.stopRequested) break;
        }
        this.engine.advanceTo(t);
        const eventMs = this.engine.epochMs(t);
        if (t === nextSwitch) {
          await this.exportSwitches();
          nextSwitch += switchUs;
          await this.opts.hooks?.afterInterval?.(eventMs, 'switch');
        }
        if (t === nextGpu) {
          await this.exportGpus(eventMs);
          nextGpu += gpuUs;
          await this.opts.hooks?.afterInterval?.(eventMs, 'gpu');
        }
      }
      // Whatever completed after the last GPU interval still reaches the files.
      await this.flushCollectives(this.engine.epochMs(this.engine.nowUs));
      if (this.opts.outDir) await this.updateGroundTruth();
    } finally {
      await this.close();
    }
    const summary: PlaySummary = {
      scenario: s.name,
      simulated_s: this.engine.nowUs / 1e6,
      wall_s: (Date.now() - wallStart) / 1000,
      records: { ...this.counts },
      otlp_export_failures: this.otlpFailures,
    };
    this.opts.logger?.info('simulator finished', { ...summary });
    return summary;
  }

  /** Asks run() to finish at the next interval; run() then closes servers and flushes files. */
  stop(): void {
    this.stopRequested = true;
    this.wakeStop?.();
  }

  /** Closes servers and exporters (idempotent); run() calls it, call it yourself if you never ran. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.dcgm.map((d) => d.stop()));
    await this.switchRoundInFlight;
    await this.exportThread?.close();
  }

  private async sleepUnlessStopped(ms: number): Promise<void> {
    const ac = new AbortController();
    this.wakeStop = () => ac.abort();
    try {
      await sleep(ms, undefined, { signal: ac.signal });
    } catch {
      // Aborted by stop().
    } finally {
      this.wakeStop = undefined;
    }
  }

  /**
   * Reads a round of switch counters and hands it to the export thread. The simulation goes on
   * while the thread pushes it, up to the next round; with an afterInterval hook (lockstep) the
   * round is pushed before the hook runs.
   */
  private async exportSwitches(): Promise<void> {
    await this.switchRoundInFlight;
    const thread = this.opts.otlpUrl ? this.exportThread : undefined;
    const round = this.engine.switchCounters(thread?.spareArrays());
    this.counts.switch_samples += this.engine.switchLayout.switches.length;
    this.counts.port_samples += this.engine.switchLayout.ports;
    if (!thread) return;
    this.switchRoundInFlight = thread.submitSwitches(round).then(
      (result) => this.noteSwitchExport(result),
      (e: unknown) => this.noteSwitchExport({ items: 0, failures: this.engine.switchLayout.switches.length, error: asFabricscopeError(e).message }),
    );
    if (this.opts.hooks?.afterInterval) await this.switchRoundInFlight;
  }

  private noteSwitchExport(result: ExportResult): void {
    for (let i = 0; i < result.failures; i++) {
      this.otlpFailures++;
      if (this.otlpFailures <= 5 || this.otlpFailures % 100 === 0) {
        this.opts.logger?.warn('OTLP export failed', { error: result.error, failures: this.otlpFailures });
      }
    }
  }

  private async exportGpus(eventMs: number): Promise<void> {
    const snap = this.engine.gpuSnapshot();
    this.counts.gpu_samples += snap.gpus.length;
    this.publishGpus(snap.gpus, snap.ts_ms);
    await this.flushCollectives(eventMs);
    if (this.opts.outDir) await this.updateGroundTruth();
  }

  private publishGpus(gpus: readonly GpuSnapshot[], tsMs: number): void {
    for (const d of this.dcgm) d.update(gpus.filter((g) => g.node === d.node), tsMs);
  }

  /** Hands the collectives completed since the last call to the export thread and waits until their lines are written. */
  private async flushCollectives(eventMs: number): Promise<void> {
    const done = this.engine.drainCompleted();
    this.counts.collective_records += done.records;
    if (!this.opts.ncclDir || !this.exportThread) return;
    const result = await this.exportThread.submitCollectives(done, eventMs * 1000);
    if (result.failures > 0) this.opts.logger?.warn('NCCL Inspector write failed', { error: result.error, records: result.failures });
  }

  /** Rewrites ground-truth.json when a new fault occurrence has started. */
  private async updateGroundTruth(): Promise<void> {
    const faults = this.engine.groundTruth();
    this.counts.ground_truth_faults = faults.length;
    if (faults.length === this.groundTruthCount) return;
    for (const f of faults.slice(Math.max(0, this.groundTruthCount))) {
      this.opts.logger?.info('fault injected', { id: f.id, kind: f.kind, target: f.target, start_ms: f.start_ms, end_ms: f.end_ms, severity: f.severity });
    }
    this.groundTruthCount = faults.length;
    await writeGroundTruth(this.opts.outDir!, faults);
  }
}
