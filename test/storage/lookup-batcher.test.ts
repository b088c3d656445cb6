/**
 * LookupBatcher: a lone lookup runs at once; lookups asked while a query runs share the next
 * one (at most maxBatch keys each); a failure reaches exactly the lookups of its batch. And
 * the store's concurrent stall lookups, batched on real chDB, each get their own stall.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupBatcher } from '../../storage/lookup-batcher.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { stall, tempDataDir } from './fixtures.js';

/** A lookup whose queries finish only when the test releases them. */
function heldLookup() {
  const calls: string[][] = [];
  const pending: Array<{ keys: string[]; release: (fail?: Error) => void }> = [];
  const lookup = (keys: string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push(keys);
      pending.push({ keys, release: (fail) => (fail ? reject(fail) : resolve(new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()])))) });
    });
  const releaseNext = async (fail?: Error) => {
    while (pending.length === 0) await new Promise((r) => setImmediate(r));
    pending.shift()!.release(fail);
  };
  return { calls, lookup, releaseNext };
}

describe('LookupBatcher', () => {
  it('runs a lone lookup at once and gathers the ones asked meanwhile into the next query', async () => {
    const { calls, lookup, releaseNext } = heldLookup();
    const batcher = new LookupBatcher(lookup, 3);
    const first = batcher.get('a');
    expect(calls).toEqual([['a']]);
    const rest = ['b', 'c', 'b', 'missing', 'd'].map((k) => batcher.get(k));
    await releaseNext();
    await releaseNext();
    await releaseNext();
    expect(await first).toBe('A');
    expect(await Promise.all(rest)).toEqual(['B', 'C', 'B', undefined, 'D']);
    expect(calls).toEqual([['a'], ['b', 'c', 'missing'], ['d']]);
  });

  it('fails exactly the lookups of a failed query, and goes on with the next', async () => {
    const { lookup, releaseNext } = heldLookup();
    const batcher = new LookupBatcher(lookup, 10);
    const first = batcher.get('a');
    const second = batcher.get('b');
    await releaseNext(new Error('engine said no'));
    await expect(first).rejects.toThrow('engine said no');
    await releaseNext();
    expect(await second).toBe('B');
  });
});

describe('stall lookups on chDB', () => {
  let store: ClickHouseStore;
  beforeAll(async () => {
    store = createStore({ data: tempDataDir('lookup-batcher'), resultCacheItems: 0 });
    await store.migrate();
    await store.insert('stalls', Array.from({ length: 20 }, (_, i) => stall(i)));
    await store.insert('stalls', [stall(3, { kind: 'pfc_storm', location: 'leaf-1/p1' })]);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('answer each concurrent lookup with its own stall, newest version, none for an unknown id', async () => {
    const ids = [...Array.from({ length: 20 }, (_, i) => `train-a:${i}`), 'train-a:3', 'nope'];
    const found = await Promise.all(ids.map((id) => store.getStall(id)));
    expect(found.map((s) => s?.id)).toEqual([...ids.slice(0, -1), undefined]);
    expect(found[3]?.root_cause.kind).toBe('pfc_storm');
    expect(found[5]).toEqual(stall(5));
  });
});
