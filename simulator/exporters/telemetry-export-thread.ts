/**
 * Telemetry export on a worker thread: the simulation thread only packs what the devices report
 * into typed arrays — each round of switch counters (engine.switchCounters) and the collectives
 * completed since the last drain (engine.drainCompleted) — and hands them over without copying.
 * The worker (telemetry-export-worker.ts) builds the OTLP payloads and pushes them, and builds
 * the NCCL Inspector records and appends them to the rank files. Encoding is as much work as
 * simulating a steady second of the fabric; on a second core it overlaps the simulation instead
 * of adding to it.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FabricscopeError } from '../../core/errors.js';
import type { CollectiveJobLayout, CompletedCollectives } from '../collective-samples.js';
import type { SwitchCounterRound, SwitchLayout } from '../switch-samples.js';

export interface TelemetryExportSetup {
  /** Switch rounds: pushed to `url` (OTLP/HTTP base URL), or without one built and counted only. */
  switches?: { layout: SwitchLayout; resetMs: number; url?: string };
  /** Completed collectives: appended as NCCL Inspector lines under `dir`, or without one built and counted only. */
  collectives?: { jobs: CollectiveJobLayout[]; seed: number; dir?: string };
}

export type TelemetryExportRequest =
  | { kind: 'switches'; seq: number; round: SwitchCounterRound }
  | { kind: 'collectives'; seq: number; done: CompletedCollectives; dumpTimestampUs: number }
  | { kind: 'close' };

export type TelemetryExportResponse =
  | { kind: 'switches'; seq: number; result: ExportResult; counters: Float64Array; histograms: Float64Array }
  | { kind: 'collectives'; seq: number; result: ExportResult }
  | { kind: 'closed' };

/**
 * What became of one hand-over: items built (and sent or written) — OTLP data points of a
 * switch round, records of a drain — and how many pushes or writes failed.
 */
export interface ExportResult {
  items: number;
  failures: number;
  /** The first failure's message. */
  error?: string;
}

type SwitchArrays = Pick<SwitchCounterRound, 'counters' | 'histograms'>;

/**
 * The worker's compiled entry. Beside this module when it runs compiled; when it runs from the
 * TypeScript sources (the test runner), the build's copy, since a worker thread cannot load
 * TypeScript (`npm test` builds first).
 */
function workerEntry(): URL {
  if (import.meta.url.endsWith('.js')) return new URL('./telemetry-export-worker.js', import.meta.url);
  return new URL('../../dist/simulator/exporters/telemetry-export-worker.js', import.meta.url);
}

export class TelemetryExportThread {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(r: ExportResult): void; reject(e: Error): void }>();
  /** Arrays of switch rounds the worker is done with, to be filled again. */
  private readonly spare: SwitchArrays[] = [];
  private failure?: Error;
  private closing?: Promise<void>;

  constructor(readonly setup: TelemetryExportSetup) {
    // Not the parent's node flags: some (--input-type, loaders of a test runner) do not apply to
    // a worker's compiled entry, and it needs none.
    this.worker = new Worker(workerEntry(), { workerData: setup, execArgv: [] });
    // Idle, the thread does not keep the process alive (an owner that never closes it cannot
    // hang the exit); with work handed over, it does until the work is answered.
    this.worker.unref();
    this.worker.on('message', (m: TelemetryExportResponse) => this.onResponse(m));
    this.worker.on('error', (e) => this.fail(new FabricscopeError('INTERNAL', `telemetry export thread failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new FabricscopeError('INTERNAL', `telemetry export thread exited (code ${code})`));
    });
  }

  /** Arrays a finished round left behind, for engine.switchCounters to fill (undefined: none yet). */
  spareArrays(): SwitchArrays | undefined {
    return this.spare.pop();
  }

  /** Hands a switch round over (its arrays move to the worker); resolves once it is built and pushed. */
  submitSwitches(round: SwitchCounterRound): Promise<ExportResult> {
    if (!this.setup.switches) return Promise.reject(new FabricscopeError('INTERNAL', 'telemetry export thread was set up without switches'));
    return this.send({ kind: 'switches', seq: ++this.seq, round }, [round.counters.buffer as ArrayBuffer, round.histograms.buffer as ArrayBuffer]);
  }

  /** Hands completed collectives over; resolves once their records are built (and written). */
  submitCollectives(done: CompletedCollectives, dumpTimestampUs: number): Promise<ExportResult> {
    if (!this.setup.collectives) return Promise.reject(new FabricscopeError('INTERNAL', 'telemetry export thread was set up without collectives'));
    return this.send({ kind: 'collectives', seq: ++this.seq, done, dumpTimestampUs }, [done.data.buffer as ArrayBuffer]);
  }

  /** Waits for everything handed over, closes the worker's exporters and ends the thread (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      const exited = once(this.worker, 'exit');
      this.worker.ref();
      this.worker.postMessage({ kind: 'close' } satisfies TelemetryExportRequest);
      await exited;
    })();
    return this.closing;
  }

  private send(request: TelemetryExportRequest & { seq: number }, transfer: ArrayBuffer[]): Promise<ExportResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new FabricscopeError('INTERNAL', 'telemetry export thread is closed'));
    const done = new Promise<ExportResult>((resolve, reject) => this.pending.set(request.seq, { resolve, reject }));
    this.worker.ref();
    this.worker.postMessage(request, transfer);
    return done;
  }

  private onResponse(m: TelemetryExportResponse): void {
    if (m.kind === 'closed') return;
    if (m.kind === 'switches') this.spare.push({ counters: m.counters, histograms: m.histograms });
    const waiter = this.pending.get(m.seq);
    this.pending.delete(m.seq);
    if (this.pending.size === 0) this.worker.unref();
    waiter?.resolve(m.result);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
  }
}
