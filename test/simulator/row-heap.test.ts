/**
 * The row heap the fluid fabric keeps its flows' next-event times in: after any mix of inserts,
 * key changes (up and down, to ±Infinity), removals and rebuilds, its top is the smallest key
 * and collectAtMost returns exactly the rows whose key is at most the bound.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../simulator/prng.js';
import { RowHeap } from '../../simulator/row-heap.js';

describe('row heap', () => {
  it('keeps the smallest key on top and collects exactly the rows at most a bound', () => {
    const rng = new Prng('row-heap');
    let keys = new Float64Array(16);
    const heap = new RowHeap(keys);
    const inHeap = new Set<number>();
    const randomKey = (): number => {
      const r = rng.uniform(0, 1);
      return r < 0.05 ? Infinity : r < 0.08 ? -Infinity : Math.floor(rng.uniform(0, 1000)) / 10;
    };
    for (let step = 0; step < 5000; step++) {
      const op = rng.uniform(0, 1);
      const row = Math.floor(rng.uniform(0, 600));
      if (row >= keys.length) {
        // The owner grows its key table and hands the heap the new one.
        const grown = new Float64Array(2 * row);
        grown.set(keys);
        keys = grown;
        heap.keys = keys;
      }
      if (op < 0.6) {
        keys[row] = randomKey();
        heap.update(row);
        inHeap.add(row);
      } else if (op < 0.95) {
        heap.remove(row);
        inHeap.delete(row);
      } else {
        const rows = Int32Array.from(inHeap);
        heap.rebuild(rows, rows.length);
      }
      expect(heap.size).toBe(inHeap.size);
      const top = heap.top();
      if (inHeap.size === 0) expect(top).toBe(-1);
      else expect(keys[top]).toBe(Math.min(...[...inHeap].map((r) => keys[r]!)));
      if (step % 50 === 0) {
        const bound = rng.uniform(0, 100);
        const out = new Int32Array(inHeap.size + 3);
        const count = heap.collectAtMost(bound, out, 3);
        const got = [...out.subarray(3, count)].sort((a, b) => a - b);
        const want = [...inHeap].filter((r) => keys[r]! <= bound).sort((a, b) => a - b);
        expect(got).toEqual(want);
      }
    }
  });
});
