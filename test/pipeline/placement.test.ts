import { describe, expect, it } from 'vitest';
import { PlacementRegistry } from '../../pipeline/placement.js';
import { collectiveEvent } from './fixtures.js';

describe('PlacementRegistry', () => {
  it("gives each rank its position among its host's ranks as the local GPU", () => {
    const p = new PlacementRegistry();
    const hosts = ['node-5', 'node-5', 'node-2', 'node-2'];
    p.observe(hosts.map((host, rank) => collectiveEvent({ rank, n_ranks: 4, host, seq: 0, start_us: 0, end_us: 1 })));
    expect(p.locate('train-a', 1)).toMatchObject({ host: 'node-5', node: 5, gpu: 1, gpuName: 'node-5/gpu-1' });
    expect(p.locate('train-a', 2)?.gpuName).toBe('node-2/gpu-0');
    expect(p.nodes('train-a')).toEqual([2, 5]);
    expect(p.complete('train-a')).toBe(true);
    expect(p.locate('train-a', 9)).toBeUndefined();
  });

  it('keeps foreign host names', () => {
    const p = new PlacementRegistry();
    p.observe([collectiveEvent({ rank: 0, n_ranks: 2, host: 'gpu-box-a', seq: 0, start_us: 0, end_us: 1 })]);
    expect(p.locate('train-a', 0)?.gpuName).toBe('gpu-box-a/gpu-0');
    expect(p.nodes('train-a')).toEqual([]);
    expect(p.complete('train-a')).toBe(false);
  });
});
