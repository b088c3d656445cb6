/**
 * The result cache: kept answers are served until a write into a table they read ends, never
 * kept when a write overlapped their query; and the embedded store's answers stay exact
 * across its own inserts (real chDB).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCache } from '../../storage/result-cache.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { T0, portSample, stall, tempDataDir } from './fixtures.js';

/** A load that counts its calls and answers what `next` holds at the time. */
function counter<T>(initial: T) {
  const state = { calls: 0, next: initial };
  const load = async () => {
    state.calls++;
    return structuredClone(state.next);
  };
  return { state, load };
}

const options = { max_items: 100, max_age_ms: 60_000 };
const one = () => 1;

describe('ResultCache', () => {
  it('serves a repeat from memory until a write into its table ends', async () => {
    const cache = new ResultCache(options);
    const { state, load } = counter({ n: 1 });
    // Kept from the key's second miss on.
    expect(await cache.get('k', ['stalls'], load, one)).toEqual({ n: 1 });
    expect(await cache.get('k', ['stalls'], load, one)).toEqual({ n: 1 });
    expect(await cache.get('k', ['stalls'], load, one)).toEqual({ n: 1 });
    expect(state.calls).toBe(2);
    // A write into another table changes nothing here.
    cache.writeStarted('port_samples');
    cache.writeEnded('port_samples');
    await cache.get('k', ['stalls'], load, one);
    expect(state.calls).toBe(2);
    state.next = { n: 2 };
    cache.writeStarted('stalls');
    cache.writeEnded('stalls');
    // A key kept before is known to repeat: its fresh answer is kept at once.
    expect(await cache.get('k', ['stalls'], load, one)).toEqual({ n: 2 });
    expect(await cache.get('k', ['stalls'], load, one)).toEqual({ n: 2 });
    expect(state.calls).toBe(3);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 3 });
  });

  it('counts a request that shared a running query as no second miss of its key', async () => {
    const cache = new ResultCache(options);
    const { state, load } = counter({ n: 1 });
    await Promise.all([cache.get('k', ['stalls'], load, one), cache.get('k', ['stalls'], load, one)]);
    await cache.get('k', ['stalls'], load, one); // the second miss of its own: kept
    await cache.get('k', ['stalls'], load, one);
    expect(state.calls).toBe(2);
    expect(cache.stats()).toMatchObject({ hits: 1, shared: 1 });
  });

  it('keeps no answer of a key asked only once', async () => {
    const cache = new ResultCache(options);
    const { state, load } = counter({ n: 1 });
    for (let i = 0; i < 50; i++) await cache.get(`k${i}`, ['stalls'], load, one);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 50, entries: 0, items: 0 });
    await cache.get('k7', ['stalls'], load, one);
    await cache.get('k7', ['stalls'], load, one);
    expect(state.calls).toBe(51);
    expect(cache.stats()).toMatchObject({ hits: 1, entries: 1 });
  });

  it('does not keep an answer whose query overlapped a write into its table', async () => {
    const cache = new ResultCache(options);
    const { state, load } = counter({ n: 1 });
    cache.writeStarted('stalls');
    await cache.get('k', ['stalls'], load, one);
    await cache.get('k', ['stalls'], load, one); // the key's second miss, yet not kept
    expect(state.calls).toBe(2);
    cache.writeEnded('stalls');
    await cache.get('k', ['stalls'], load, one); // missed once more: the next answer would be kept
    expect(state.calls).toBe(3);
    // A write that starts while the query runs and ends after it.
    let release!: () => void;
    const slow = cache.get('k', ['stalls'], () => new Promise<{ n: number }>((r) => (release = () => r({ n: 3 }))), one);
    cache.writeStarted('stalls');
    release();
    await slow;
    cache.writeEnded('stalls');
    await cache.get('k', ['stalls'], load, one);
    expect(state.calls).toBe(4);
  });

  it('lets identical requests share one running query, but not across a write', async () => {
    const cache = new ResultCache(options);
    let loads = 0;
    const releases: Array<() => void> = [];
    const load = () => {
      const n = ++loads;
      return new Promise<number>((r) => releases.push(() => r(n)));
    };
    const a = cache.get('k', ['stalls'], load, one);
    const b = cache.get('k', ['stalls'], load, one);
    cache.writeStarted('stalls');
    cache.writeEnded('stalls');
    const c = cache.get('k', ['stalls'], load, one);
    releases.forEach((r) => r());
    expect([await a, await b, await c]).toEqual([1, 1, 2]);
    expect(cache.stats().shared).toBe(1);
  });

  it('evicts the least recently used answers beyond its item budget and keeps none larger than it', async () => {
    const cache = new ResultCache({ max_items: 10, max_age_ms: 60_000 });
    const loads: string[] = [];
    const get = (key: string, items: number) =>
      cache.get(key, ['stalls'], async () => (loads.push(key), key), () => items);
    // Each key missed once already, so its next answer is kept.
    for (const [key, items] of [['a', 4], ['b', 4], ['c', 4], ['huge', 11]] as const) await get(key, items);
    loads.length = 0;
    await get('a', 4);
    await get('b', 4);
    await get('a', 4); // a is now the most recent
    await get('c', 4); // over budget: b goes
    await get('a', 4);
    await get('b', 4);
    await get('huge', 11);
    await get('huge', 11);
    expect(loads).toEqual(['a', 'b', 'c', 'b', 'huge', 'huge']);
    expect(cache.stats().items).toBeLessThanOrEqual(10);
  });

  it('freezes answers so that no caller can change what the next one gets', async () => {
    const cache = new ResultCache(options);
    const first = await cache.get('k', ['stalls'], async () => ({ list: [{ v: 1 }] }), one);
    expect(() => {
      first.list[0]!.v = 2;
    }).toThrow(TypeError);
  });

  it('forgets everything on clear', async () => {
    const cache = new ResultCache(options);
    const { state, load } = counter(1);
    await cache.get('k', ['alerts'], load, one);
    cache.clear();
    await cache.get('k', ['alerts'], load, one);
    expect(state.calls).toBe(2);
  });
});

describe('the embedded store with its result cache', () => {
  let store: ClickHouseStore;
  beforeAll(async () => {
    store = createStore({ data: tempDataDir('result-cache') });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('answers repeats from memory and every read after an insert afresh', async () => {
    await store.insert('stalls', [stall(1), stall(2)]);
    const window = { from_ms: T0, to_ms: T0 + 60_000 };
    expect((await store.listStalls({ limit: 10 })).map((s) => s.id)).toEqual(['train-a:2', 'train-a:1']);
    expect((await store.topRootCauses({ ...window, limit: 5 })).by_stalls[0]?.stalls).toBe(2);
    // Asked a second time: now kept (result-cache.ts keeps an answer from its key's second miss).
    expect((await store.listStalls({ limit: 10 })).map((s) => s.id)).toEqual(['train-a:2', 'train-a:1']);
    const before = store.resultCacheStats()!;
    expect((await store.listStalls({ limit: 10 })).map((s) => s.id)).toEqual(['train-a:2', 'train-a:1']);
    expect(store.resultCacheStats()!.hits).toBe(before.hits + 1);

    // A new stall and a new version of an old one: both show at once.
    await store.insert('stalls', [stall(3), stall(1, { kind: 'pfc_storm', location: 'leaf-1/p1' })]);
    expect((await store.listStalls({ limit: 10 })).map((s) => s.id)).toEqual(['train-a:3', 'train-a:2', 'train-a:1']);
    expect((await store.getStall('train-a:1'))?.root_cause.kind).toBe('pfc_storm');
    const top = await store.topRootCauses({ ...window, limit: 5 });
    expect(top.by_stalls.map((c) => [c.kind, c.stalls])).toEqual([['incast_congestion', 2], ['pfc_storm', 1]]);

    const series = { from_ms: T0, to_ms: T0 + 10_000, step_ms: 1000 };
    await store.insert('port_samples', [portSample(0)]);
    const one = await store.portSeries('leaf-3/p5', series);
    await store.insert('port_samples', [portSample(1)]);
    const two = await store.portSeries('leaf-3/p5', series);
    expect(two.points.reduce((n, p) => n + p.samples, 0)).toBe(one.points.reduce((n, p) => n + p.samples, 0) + 1);
  });

  it('is off with result_cache_items 0, and on a server', async () => {
    const off = createStore({ data: store.describe.slice('chdb:'.length), resultCacheItems: 0 });
    const server = createStore({ clickhouse: 'http://127.0.0.1:1/fabricscope' });
    try {
      expect(off.resultCacheStats()).toBeUndefined();
      expect(server.resultCacheStats()).toBeUndefined();
      expect(store.resultCacheStats()).toBeDefined();
    } finally {
      await off.close();
      await server.close();
    }
  });
});
