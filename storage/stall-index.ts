/**
 * The stall listing answered from memory on embedded chDB: every stall's newest version
 * without its ranks (but with their count), in the listing order (start desc, id asc),
 * filtered and paged here instead of by a `stalls FINAL` query; the root-cause ranking reads
 * the stalls of a window from it too (root-cause-ranking.ts). chDB runs one query at a time and any MergeTree read
 * costs ~7-10 ms of it under load, so with 12 concurrent listings a miss waited ~12 such
 * reads; a page from this index costs no engine time at all.
 *
 * Only sound where this process's store is the only writer (embedded chDB, like the result
 * cache): it is loaded from `stalls FINAL` on first use and kept exact by the store's own
 * inserts, each followed by a re-read of the stalls it wrote (`refresh`). Versions merge as
 * ReplacingMergeTree(version) collapses them (newest wins within the table's sorting key), so
 * a load and a refresh may overlap in any order. A write or refresh that fails leaves the index unknown: it is reloaded on the
 * next read. TTL retention removes rows at merges whose time ClickHouse does not promise; the
 * index is reloaded in the background once `max_age_ms` old to follow. A table holding more
 * than `max_stalls` stalls is not indexed (the store then runs the SQL listing).
 */
import type { Stall } from '../core/records.js';
import type { StallFilter, StallPosition } from '../core/store.js';
import { deepFreeze } from './result-cache.js';
import { stallOf, type StallRow } from './rows.js';
import { stallIndexLoadQuery, stallSummariesByIdQuery, type BoundQuery } from './stall-query.js';

export interface StallIndexOptions {
  /** Past this many stalls the table is not held in memory (~1 KB a stall). */
  max_stalls: number;
  /** A loaded index is reloaded (in the background) once this old, to follow TTL removals. */
  max_age_ms: number;
}

/** A stall summary row as the index queries return it: the listing's columns, the rank count and the version. */
export type IndexedStallRow = StallRow & { n_ranks: number | string; version: number | string };

/** Runs one read query (the store's read path: bound values, read-only, limits). */
export type IndexRead = (q: BoundQuery) => Promise<IndexedStallRow[]>;

interface Entry {
  stall: Stall;
  /** How many ranks it had (the stall itself holds none): what GPU time lost is weighed by. */
  n_ranks: number;
  version: number;
}

/** Which stalls the root-cause ranking reads: those overlapping [from, to], of one job. */
export type StallWindow = Pick<StallFilter, 'from_ms' | 'to_ms' | 'job'>;

/**
 * ClickHouse orders Strings by their UTF-8 bytes, which is code point order; JS `<` compares
 * UTF-16 units, which differs only where a surrogate (a code point above U+FFFF) meets a unit
 * in U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      const xSurrogate = x <= 0xdfff;
      if (xSurrogate !== y <= 0xdfff) return xSurrogate ? 1 : -1;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * What ReplacingMergeTree collapses versions by: the sorting key of `stalls`, (job, start, id),
 * not the id alone. A version that moves a stall to another job or start is another row to
 * `stalls FINAL`, and so it is here.
 */
const rowKey = (s: Stall): string => JSON.stringify([s.job, s.start_ms, s.id]);

/** The listing order: newest start first, then id ascending (as the SQL `ORDER BY start DESC, id`). */
const listingOrder = (a: StallPosition, b: StallPosition): number => b.start_ms - a.start_ms || compareUtf8(a.id, b.id);

export class StallIndex {
  /** Every indexed stall in listing order. */
  private entries: Entry[] = [];
  /** By the table's sorting key: the rows FINAL collapses into one (rowKey). */
  private byKey = new Map<string, Entry>();
  /** At least the longest end − start of any entry: how far before `from` an overlapping stall may start. */
  private maxSpanMs = 0;
  private loaded = false;
  /** The table held more than max_stalls at the last load: the SQL listing answers. */
  private tooLarge = false;
  private loadedAt = 0;
  private loading?: Promise<void>;
  /** Refreshed rows that arrived while a load ran: applied on top of its snapshot. */
  private arrivedDuringLoad: IndexedStallRow[] = [];
  /** Bumped by invalidate(): a load that began before it is not trusted. */
  private generation = 0;

  constructor(
    private readonly read: IndexRead,
    private readonly options: StallIndexOptions,
  ) {
    if (!Number.isSafeInteger(options.max_stalls) || options.max_stalls <= 0) {
      throw new RangeError(`stall index max_stalls must be a positive integer, got ${options.max_stalls}`);
    }
  }

  /**
   * The listing of `filter` from memory, or undefined when the index cannot answer it (it
   * holds no ranks, or the table is too large to hold): the caller runs the SQL listing then.
   */
  async list(filter: StallFilter): Promise<Stall[] | undefined> {
    if (filter.include_ranks !== false) return undefined;
    await this.ready();
    if (this.tooLarge || !this.loaded) return undefined;
    return this.select(filter);
  }

  /**
   * The stalls overlapping the window (as stallWindowConditions: end ≥ from, start ≤ to) of
   * its job, or undefined when the index cannot answer (the table is too large to hold).
   */
  async overlapping(window: StallWindow): Promise<Entry[] | undefined> {
    await this.ready();
    if (this.tooLarge || !this.loaded) return undefined;
    const entries = this.entries;
    const begin = window.to_ms === undefined ? 0 : firstStartingBy(entries, window.to_ms);
    // Entries start newest first: past this start none can still end in the window.
    const earliestStart = window.from_ms === undefined ? -Infinity : window.from_ms - this.maxSpanMs;
    const out: Entry[] = [];
    for (let i = begin; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.stall.start_ms < earliestStart) break;
      if (window.from_ms !== undefined && e.stall.end_ms < window.from_ms) continue;
      if (window.job !== undefined && e.stall.job !== window.job) continue;
      out.push(e);
    }
    return out;
  }

  /** Re-reads the given stalls after the store wrote them; on failure the index is reloaded later. */
  async refresh(ids: readonly string[]): Promise<void> {
    if (!this.loaded && !this.loading) return; // the next load reads them
    const unique = [...new Set(ids)];
    try {
      const rows = await this.read(stallSummariesByIdQuery(unique));
      // Into what answers now (a reload may be running behind it), and into the reload's snapshot.
      if (this.loaded) this.apply(rows);
      if (this.loading) this.arrivedDuringLoad.push(...rows);
    } catch {
      this.invalidate();
    }
  }

  /** Forgets what is held (a write failed half-way, or the schema changed): the next read reloads. */
  invalidate(): void {
    this.generation++;
    this.loaded = false;
    this.tooLarge = false;
  }

  /** How many stalls the index answers from now (0 before a load, after a failure, or when too large). */
  size(): number {
    return this.loaded ? this.entries.length : 0;
  }

  private async ready(): Promise<void> {
    if (this.loaded || this.tooLarge) {
      // Old: reload behind the answers, which stay as exact as TTL timing ever promised.
      if (!this.loading && Date.now() - this.loadedAt > this.options.max_age_ms) void this.load().catch(() => undefined);
      return;
    }
    await (this.loading ?? this.load());
  }

  private load(): Promise<void> {
    const generation = this.generation;
    this.arrivedDuringLoad = [];
    const loading = (async () => {
      const rows = await this.read(stallIndexLoadQuery(this.options.max_stalls));
      if (generation !== this.generation) return; // invalidated meanwhile: the next read loads again
      this.loadedAt = Date.now();
      if (rows.length > this.options.max_stalls) {
        this.tooLarge = true;
        this.loaded = false;
        this.entries = [];
        this.byKey = new Map();
        return;
      }
      this.tooLarge = false;
      this.entries = [];
      this.byKey = new Map();
      this.maxSpanMs = 0;
      this.apply(rows);
      this.apply(this.arrivedDuringLoad);
      this.loaded = true;
    })();
    this.loading = loading;
    const done = () => {
      if (this.loading === loading) this.loading = undefined;
      this.arrivedDuringLoad = [];
    };
    loading.then(done, done);
    return loading;
  }

  /** Rows into the index, a newer version replacing an older one of the same id. */
  private apply(rows: readonly IndexedStallRow[]): void {
    if (rows.length === 0) return;
    const added: Entry[] = [];
    const replaced = new Set<Entry>();
    for (const row of rows) {
      const version = Number(row.version);
      const stall = stallOf(row);
      const key = rowKey(stall);
      const old = this.byKey.get(key);
      if (old && old.version > version) continue;
      const entry: Entry = { stall: deepFreeze(stall), n_ranks: Number(row.n_ranks), version };
      this.maxSpanMs = Math.max(this.maxSpanMs, stall.end_ms - stall.start_ms);
      if (old) replaced.add(old);
      this.byKey.set(key, entry);
      added.push(entry);
    }
    const kept = replaced.size > 0 ? this.entries.filter((e) => !replaced.has(e)) : this.entries;
    // A superseded entry added earlier in this same batch is not the one byKey holds.
    const fresh = added.filter((e) => this.byKey.get(rowKey(e.stall)) === e);
    if (fresh.length <= 16 && kept.length > 0) {
      for (const e of fresh) kept.splice(firstAfter(kept, e.stall, true), 0, e);
      this.entries = kept;
    } else {
      this.entries = kept.concat(fresh).sort((a, b) => listingOrder(a.stall, b.stall));
    }
  }

  private select(filter: StallFilter): Stall[] {
    const entries = this.entries;
    let begin = 0;
    // Listing order starts newest: skip what starts after `to`, and what the cursor passed.
    if (filter.to_ms !== undefined) begin = firstStartingBy(entries, filter.to_ms);
    if (filter.after !== undefined) begin = Math.max(begin, firstAfter(entries, filter.after, false));
    const out: Stall[] = [];
    for (let i = begin; i < entries.length && out.length < filter.limit; i++) {
      const s = entries[i]!.stall;
      if (filter.from_ms !== undefined && s.end_ms < filter.from_ms) continue;
      if (filter.job !== undefined && s.job !== filter.job) continue;
      if (filter.kind !== undefined && s.root_cause.kind !== filter.kind) continue;
      if (filter.location !== undefined && s.root_cause.location !== filter.location) continue;
      if (filter.min_duration_us !== undefined && s.duration_us < filter.min_duration_us) continue;
      out.push(s);
    }
    return out;
  }
}

/**
 * The first index whose entry comes after `p` in listing order (binary search); with
 * `inclusive`, an entry equal to `p` counts as after it (the insertion point of `p`).
 */
function firstAfter(entries: readonly Entry[], p: StallPosition, inclusive: boolean): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = listingOrder(entries[mid]!.stall, p);
    if (c > 0 || (inclusive && c === 0)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first index whose stall starts at or before `ms` (entries start newest first). */
function firstStartingBy(entries: readonly Entry[], ms: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.stall.start_ms <= ms) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
