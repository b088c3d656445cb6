/** isoOf's own formatting against the toISOString it replaces. */
import { describe, expect, it } from 'vitest';
import { isoOf } from '../../core/time.js';
import { Prng } from '../../simulator/prng.js';

describe('isoOf', () => {
  it('formats as toISOString does, edges and a spread of times', () => {
    const year10000 = Date.UTC(10000, 0, 1);
    const edges = [0, 1, 9, 10, 99, 100, 999, 1000, 59_999, 3_599_999, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), year10000 - 1, year10000, -1, -86_400_001, 8.64e15, 0.5, 1767225600000.7];
    const prng = new Prng(7);
    const spread = Array.from({ length: 20_000 }, () => Math.floor(prng.next() * year10000));
    // Alternating days, so the remembered date is replaced as often as kept.
    const alternating = Array.from({ length: 2000 }, (_, i) => Date.UTC(2026, 2, 2) + (i % 2) * 86_400_000 + i * 1001);
    for (const ms of [...edges, ...spread, ...alternating]) expect(isoOf(ms), String(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws as toISOString does on what is not a time', () => {
    for (const ms of [Number.NaN, Infinity, 8.64e15 + 1]) expect(() => isoOf(ms)).toThrow(RangeError);
  });
});
