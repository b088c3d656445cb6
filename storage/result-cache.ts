/**
 * Answers of read queries kept in memory and invalidated exactly by the store's own writes.
 *
 * Only sound where this process is the only writer of the data: embedded chDB binds its data
 * directory to one process, and that process's store makes every insert, so a write version
 * per table, bumped when an insert ends, says exactly when a kept answer may have changed. On
 * a ClickHouse server other processes write too and nothing would tell us: no cache there.
 *
 * An answer is kept only if no insert into a table it reads was in flight while its query ran
 * (an insert's rows become visible part by part, so such an answer may be half-way), and one
 * request shares another's in-flight query only when no insert ended in between. Background
 * merges change no answer; TTL retention removes rows at merges whose time ClickHouse does not
 * promise, and `max_age_ms` bounds how long a kept answer can outlive that removal.
 *
 * An answer is kept from its key's second miss on, not its first: most keys never repeat (a
 * series over a sliding window, one stall among thousands), and keeping those answers only
 * evicts others and leaves old garbage for the collector. On 12 concurrent port series that
 * never repeat, the cache took GC time from ~0.15 to ~0.7-0.9 ms a request keeping every
 * answer, and to ~0.4-0.7 ms keeping none (the rest is freezing and bookkeeping).
 */
import type { Topic } from '../core/records.js';

export interface ResultCacheOptions {
  /** What the kept answers may add up to, in items (rows, points, ranks: see the store's weights). */
  max_items: number;
  /** A kept answer is dropped after this long even when no write touched its tables. */
  max_age_ms: number;
}

/** Keys remembered as missed once; past this many the memory starts afresh (~1 MB of keys). */
const MAX_MISSED_ONCE = 10_000;

export interface ResultCacheStats {
  hits: number;
  misses: number;
  /** Misses that joined an identical query already running instead of running their own. */
  shared: number;
  entries: number;
  items: number;
}

interface Entry {
  value: unknown;
  stamp: string;
  items: number;
  stored_ms: number;
}

interface Pending {
  stamp: string;
  promise: Promise<unknown>;
}

export class ResultCache {
  private readonly versions = new Map<Topic, number>();
  private readonly writing = new Map<Topic, number>();
  /** Least recently used first (a Map iterates in insertion order; a hit re-inserts). */
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Pending>();
  /** Keys whose answer was loaded once and not kept: the next miss keeps it. */
  private readonly missedOnce = new Set<string>();
  private items = 0;
  /** Bumped by clear(): part of every stamp, so nothing kept before it matches after. */
  private epoch = 0;
  private hits = 0;
  private misses = 0;
  private shared = 0;

  constructor(private readonly options: ResultCacheOptions) {
    if (!Number.isSafeInteger(options.max_items) || options.max_items <= 0) {
      throw new RangeError(`result cache max_items must be a positive integer, got ${options.max_items}`);
    }
  }

  /**
   * The answer of `load` for `key`, from memory when no write into `tables` ended since it was
   * loaded. `weight` sizes an answer in items; one larger than the whole budget is not kept.
   * Kept answers are frozen: every caller gets the same object. An answer is kept on its key's
   * second miss, or on the first one after a kept answer went stale.
   */
  async get<R>(key: string, tables: readonly Topic[], load: () => Promise<R>, weight: (value: R) => number): Promise<R> {
    const stamp = this.stampOf(tables);
    const entry = this.entries.get(key);
    if (entry && entry.stamp === stamp && Date.now() - entry.stored_ms <= this.options.max_age_ms) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.value as R;
    }
    const keptBefore = entry !== undefined;
    if (entry) this.drop(key, entry);
    this.misses++;
    const running = this.pending.get(key);
    if (running && running.stamp === stamp) {
      this.shared++;
      return running.promise as Promise<R>;
    }
    // A key whose answer was kept before (and went stale) is known to repeat.
    const admitted = keptBefore || this.missedOnce.delete(key);
    if (!admitted) this.rememberMiss(key);
    const quiet = !this.anyWriting(tables);
    const promise = load().then((value) => {
      // Frozen whether kept or not, so callers see the same kind of answer either way.
      deepFreeze(value);
      // Kept only if no insert into its tables overlapped the query, start or end.
      if (admitted && quiet && !this.anyWriting(tables) && this.stampOf(tables) === stamp) this.keep(key, stamp, value, weight(value));
      return value;
    });
    const mine: Pending = { stamp, promise };
    this.pending.set(key, mine);
    const forget = () => {
      if (this.pending.get(key) === mine) this.pending.delete(key);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Call before an insert into `table` starts; `writeEnded` after it ends, failed or not. */
  writeStarted(table: Topic): void {
    this.writing.set(table, (this.writing.get(table) ?? 0) + 1);
  }

  writeEnded(table: Topic): void {
    const n = (this.writing.get(table) ?? 1) - 1;
    if (n > 0) this.writing.set(table, n);
    else this.writing.delete(table);
    this.versions.set(table, (this.versions.get(table) ?? 0) + 1);
  }

  /** Forgets every answer (the schema or retention changed under them). */
  clear(): void {
    this.entries.clear();
    this.missedOnce.clear();
    this.items = 0;
    this.epoch++;
  }

  stats(): ResultCacheStats {
    return { hits: this.hits, misses: this.misses, shared: this.shared, entries: this.entries.size, items: this.items };
  }

  private keep(key: string, stamp: string, value: unknown, items: number): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    if (items > this.options.max_items) return;
    this.entries.set(key, { value, stamp, items, stored_ms: Date.now() });
    this.items += items;
    for (const [oldest, e] of this.entries) {
      if (this.items <= this.options.max_items) break;
      this.drop(oldest, e);
    }
  }

  private rememberMiss(key: string): void {
    if (this.missedOnce.size >= MAX_MISSED_ONCE) this.missedOnce.clear();
    this.missedOnce.add(key);
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.items -= entry.items;
  }

  private stampOf(tables: readonly Topic[]): string {
    return `${this.epoch}:${tables.map((t) => this.versions.get(t) ?? 0).join(',')}`;
  }

  private anyWriting(tables: readonly Topic[]): boolean {
    return tables.some((t) => this.writing.has(t));
  }
}

/** Freezes an answer and everything in it, so no caller can change what the next one gets. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
  return value;
}
