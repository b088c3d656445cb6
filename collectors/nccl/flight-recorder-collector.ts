/**
 * Collects PyTorch Flight Recorder JSON dumps, posted (`POST /v1/flight-recorder?rank=&host=`
 * on the OTLP/HTTP receiver) or written to a directory (`--flight-recorder-dir`): each file
 * (`…_rank_<n>[.json]`, optionally under a `<host>/` sub-directory) is read whole whenever
 * it changes. Dumps repeat their ring buffer, so only collectives not published before go
 * out; they are remembered once the bus took them, so a dump refused by backpressure is
 * taken in full on its retry.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { Bus } from '../../core/bus.js';
import { BackpressureError, PayloadError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import { emptyCounters, type CollectorCounters } from '../collector-stats.js';
import type { CollectorTelemetry } from '../collector-telemetry.js';
import { convertFlightRecorderDump, FlightRecorderDedup, type FlightRecorderContext } from './flight-recorder.js';

export interface FlightRecorderStats extends CollectorCounters {
  dumps: number;
  /** Collectives already published from an earlier dump. */
  duplicates: number;
  /** P2P, coalesced and other entries that are not collectives. */
  skipped: number;
  /** Entries not completed when dumped. */
  incomplete: number;
}

export interface DumpResult {
  accepted: number;
  duplicates: number;
  skipped: number;
  incomplete: number;
  rejected: number;
  errors: string[];
}

const RANK_IN_NAME = /rank[_-]?(\d+)(?:\.json)?$/i;
/** Pickle protocol 2+ starts with 0x80: the recorder's default dump, not read here. */
const PICKLE = 0x80;

export class FlightRecorderCollector {
  private readonly bus: Bus;
  readonly dir?: string;
  private readonly log: Logger;
  private readonly telemetry?: CollectorTelemetry;
  private readonly dedup = new FlightRecorderDedup();
  /** Per file: the size/mtime/inode last read, so unchanged dumps are not parsed again. */
  private readonly read = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<number>;
  private readonly counters: FlightRecorderStats = { ...emptyCounters(), dumps: 0, duplicates: 0, skipped: 0, incomplete: 0 };

  constructor(options: { bus: Bus; dir?: string; logger?: Logger; telemetry?: CollectorTelemetry }) {
    this.bus = options.bus;
    this.dir = options.dir;
    this.log = options.logger ?? createLogger('info', 'collectors.flight_recorder');
    this.telemetry = options.telemetry;
  }

  stats(): FlightRecorderStats {
    return { ...this.counters };
  }

  /**
   * Ingests one parsed dump. Throws PayloadError when the dump as a whole is unusable, and
   * BackpressureError when the bus is full (nothing is remembered then).
   */
  async ingest(dump: unknown, ctx: FlightRecorderContext, format: string): Promise<DumpResult> {
    const c = this.counters;
    let conv;
    try {
      conv = convertFlightRecorderDump(dump, ctx);
    } catch (e) {
      c.rejected++;
      this.telemetry?.rejected('nccl', format, 1);
      throw e;
    }
    const fresh = this.dedup.fresh(conv.events);
    try {
      await this.bus.publish('collective_events', fresh.events);
    } catch (e) {
      c.dropped += fresh.events.length;
      this.telemetry?.dropped('nccl', format, fresh.events.length);
      throw e;
    }
    this.dedup.remember(fresh.keys);
    c.dumps++;
    c.received += conv.entries;
    c.rejected += conv.errors.length;
    c.published += fresh.events.length;
    c.duplicates += conv.events.length - fresh.events.length;
    c.skipped += conv.skipped;
    c.incomplete += conv.incomplete;
    this.telemetry?.received('nccl', format, conv.entries);
    this.telemetry?.rejected('nccl', format, conv.errors.length);
    this.telemetry?.published('nccl', format, fresh.events.length);
    if (conv.errors.length > 0) this.log.warn('Flight Recorder entries rejected', { rejected: conv.errors.length, first: conv.errors[0]!.message });
    return {
      accepted: fresh.events.length,
      duplicates: conv.events.length - fresh.events.length,
      skipped: conv.skipped,
      incomplete: conv.incomplete,
      rejected: conv.errors.length,
      errors: conv.errors.slice(0, 5).map((e) => e.message),
    };
  }

  /** Reads every dump file that changed since the last poll; resolves with events published. */
  poll(): Promise<number> {
    if (!this.polling) this.polling = this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  start(intervalMs: number): void {
    if (this.timer || !this.dir) return;
    this.timer = setInterval(() => void this.poll().catch((e) => this.log.error('Flight Recorder poll failed', { error: (e as Error).message })), intervalMs);
    void this.poll().catch(() => undefined);
  }

  /** Stops polling and reads what changed one last time. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling?.catch(() => undefined);
    if (this.dir) await this.poll().catch((e) => this.log.error('final Flight Recorder poll failed', { error: (e as Error).message }));
  }

  private async pollOnce(): Promise<number> {
    const dir = this.dir;
    if (!dir) return 0;
    let names: string[];
    try {
      names = await readdir(dir, { recursive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    let published = 0;
    const present = new Set<string>();
    for (const name of names.sort()) {
      const rank = RANK_IN_NAME.exec(basename(name));
      if (!rank) continue;
      const path = join(dir, name);
      present.add(path);
      try {
        const s = await stat(path);
        if (!s.isFile()) continue;
        const signature = `${s.size}:${s.mtimeMs}:${s.ino}`;
        if (this.read.get(path) === signature) continue;
        const bytes = await readFile(path);
        const sub = dirname(name);
        const ctx = { rank: Number(rank[1]), host: sub === '.' ? undefined : sub.split(sep).pop(), source: relative(dir, path) };
        this.read.set(path, signature);
        if (bytes[0] === PICKLE) {
          this.log.warn('Flight Recorder dump is a pickle; write it with the JSON dump API (_dump_nccl_trace_json)', { file: ctx.source });
          continue;
        }
        let dump: unknown;
        try {
          dump = JSON.parse(bytes.toString('utf8'));
        } catch (e) {
          // Perhaps still being written: a later change is read again.
          this.log.warn('Flight Recorder dump is not valid JSON (yet)', { file: ctx.source, error: (e as Error).message });
          continue;
        }
        published += (await this.ingest(dump, ctx, 'flight_recorder_file')).accepted;
      } catch (e) {
        if (e instanceof BackpressureError) {
          this.read.delete(path); // retried next poll
          this.log.warn('bus full: Flight Recorder dump will be retried', { file: name });
          break;
        }
        if (e instanceof PayloadError) this.log.warn('Flight Recorder dump rejected', { error: e.message });
        else if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot read Flight Recorder dump', { file: name, error: (e as Error).message });
      }
    }
    for (const path of this.read.keys()) if (!present.has(path)) this.read.delete(path);
    return published;
  }
}
