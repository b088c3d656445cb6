import { describe, expect, it } from 'vitest';
import { RecentSamples } from '../../pipeline/recent-samples.js';

describe('RecentSamples', () => {
  const make = () => new RecentSamples<{ ts: number }>((r) => r.ts, 1000);

  it('returns the records of a key in (from, to], in time order even when added out of order', () => {
    const h = make();
    for (const ts of [100, 300, 200, 400]) h.add('a', { ts });
    expect(h.window('a', 100, 300).map((r) => r.ts)).toEqual([200, 300]);
    expect(h.window('a', 0, 1e9).map((r) => r.ts)).toEqual([100, 200, 300, 400]);
    expect(h.window('b', 0, 1e9)).toEqual([]);
  });

  it('reads up to a moment plus the first record after it, if that is within the limit', () => {
    const h = make();
    for (const ts of [100, 900, 1900, 2900]) h.add('a', { ts });
    expect(h.windowThroughNext('a', 0, 1000, 2000).map((r) => r.ts)).toEqual([100, 900, 1900]);
    expect(h.windowThroughNext('a', 0, 900, 1800).map((r) => r.ts)).toEqual([100, 900]);
    expect(h.windowThroughNext('a', 100, 1000, 1800).map((r) => r.ts)).toEqual([900]);
    expect(h.windowThroughNext('b', 0, 1000, 2000)).toEqual([]);
  });

  it('drops what is older than the retention behind the watermark', () => {
    const h = make();
    for (const ts of [100, 500, 1500]) h.add('a', { ts });
    h.prune(1600);
    expect(h.window('a', 0, 1e9).map((r) => r.ts)).toEqual([1500]);
    h.prune(5000);
    expect(h.size).toBe(0);
  });

  it('passes over the keys again only once the cutoff has moved a tenth of the retention', () => {
    const h = make();
    for (const ts of [100, 650, 1500]) h.add('a', { ts });
    h.prune(1600); // cutoff 600
    expect(h.window('a', 0, 1e9).map((r) => r.ts)).toEqual([650, 1500]);
    h.prune(1680); // cutoff 680: under a tenth of the retention further, nothing is read
    expect(h.window('a', 0, 1e9).map((r) => r.ts)).toEqual([650, 1500]);
    h.prune(1700); // cutoff 700
    expect(h.window('a', 0, 1e9).map((r) => r.ts)).toEqual([1500]);
  });
});
