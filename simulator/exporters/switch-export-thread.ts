/**
 * Switch telemetry export on a worker thread: the simulation thread only reads each round of
 * counters into typed arrays (engine.switchCounters) and hands them over without copying; the
 * worker (switch-export-worker.ts) builds the OTLP payloads and pushes them. Encoding every
 * port's ten metrics is as much work as simulating a steady second of the fabric, and on a
 * second core it overlaps the simulation instead of adding to it.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FabricscopeError } from '../../core/errors.js';
import type { SwitchCounterRound, SwitchLayout } from '../switch-samples.js';

export interface SwitchExportSetup {
  layout: SwitchLayout;
  /** When the switches' counters started (epoch ms): the cumulative sums' start time. */
  resetMs: number;
  /** OTLP/HTTP base URL; without it payloads are built and counted but not sent. */
  url?: string;
}

export type SwitchExportRequest = { kind: 'round'; seq: number; round: SwitchCounterRound } | { kind: 'close' };

export type SwitchExportResponse =
  | { kind: 'round'; seq: number; points: number; failures: number; error?: string; counters: Float64Array; histograms: Float64Array }
  | { kind: 'closed' };

/** What became of one round: data points built (and sent), switches whose push failed. */
export interface SwitchExportResult {
  points: number;
  failures: number;
  /** The first failure's message. */
  error?: string;
}

/**
 * The worker's compiled entry. Beside this module when it runs compiled; when it runs from the
 * TypeScript sources (the test runner), the build's copy, since a worker thread cannot load
 * TypeScript (`npm test` builds first).
 */
function workerEntry(): URL {
  if (import.meta.url.endsWith('.js')) return new URL('./switch-export-worker.js', import.meta.url);
  return new URL('../../dist/simulator/exporters/switch-export-worker.js', import.meta.url);
}

export class SwitchExportThread {
  private readonly worker: Worker;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(r: SwitchExportResult): void; reject(e: Error): void }>();
  /** Arrays of rounds the worker is done with, to be filled again. */
  private readonly spare: Pick<SwitchCounterRound, 'counters' | 'histograms'>[] = [];
  private failure?: Error;
  private closing?: Promise<void>;

  constructor(setup: SwitchExportSetup) {
    this.worker = new Worker(workerEntry(), { workerData: setup });
    this.worker.on('message', (m: SwitchExportResponse) => this.onResponse(m));
    this.worker.on('error', (e) => this.fail(new FabricscopeError('INTERNAL', `switch telemetry export thread failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new FabricscopeError('INTERNAL', `switch telemetry export thread exited (code ${code})`));
    });
  }

  /** Arrays a finished round left behind, for engine.switchCounters to fill (undefined: none yet). */
  spareArrays(): Pick<SwitchCounterRound, 'counters' | 'histograms'> | undefined {
    return this.spare.pop();
  }

  /** Hands a round to the worker (its arrays move there); resolves when it is built and sent. */
  submit(round: SwitchCounterRound): Promise<SwitchExportResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new FabricscopeError('INTERNAL', 'switch telemetry export thread is closed'));
    const seq = ++this.seq;
    const done = new Promise<SwitchExportResult>((resolve, reject) => this.pending.set(seq, { resolve, reject }));
    const request: SwitchExportRequest = { kind: 'round', seq, round };
    this.worker.postMessage(request, [round.counters.buffer as ArrayBuffer, round.histograms.buffer as ArrayBuffer]);
    return done;
  }

  /** Waits for the rounds handed over, closes the worker's exporters and ends the thread (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      const exited = once(this.worker, 'exit');
      this.worker.postMessage({ kind: 'close' } satisfies SwitchExportRequest);
      await exited;
    })();
    return this.closing;
  }

  private onResponse(m: SwitchExportResponse): void {
    if (m.kind === 'closed') return;
    this.spare.push({ counters: m.counters, histograms: m.histograms });
    const waiter = this.pending.get(m.seq);
    this.pending.delete(m.seq);
    waiter?.resolve({ points: m.points, failures: m.failures, ...(m.error ? { error: m.error } : {}) });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.pending.values()) w.reject(e);
    this.pending.clear();
  }
}
