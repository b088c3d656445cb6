import { describe, expect, it } from 'vitest';
import { Watermark } from '../../pipeline/watermark.js';

describe('Watermark', () => {
  it('is -Infinity before any source speaks', () => {
    expect(new Watermark({ idleTimeoutMs: 1000 }).current()).toBe(Number.NEGATIVE_INFINITY);
  });

  it('is the minimum over sources of the latest timestamp each has shown', () => {
    const wm = new Watermark({ idleTimeoutMs: 5000 });
    wm.observe('leaf-0', 1000);
    wm.observe('leaf-1', 1300);
    wm.observe('leaf-0', 1200);
    expect(wm.current()).toBe(1200);
    wm.observe('leaf-0', 1500);
    expect(wm.current()).toBe(1300);
  });

  it('leaves an idle source out after the event-time timeout, and never moves back when it rejoins', () => {
    const wm = new Watermark({ idleTimeoutMs: 5000 });
    wm.observe('dead', 1000);
    wm.observe('live', 4000);
    expect(wm.current()).toBe(1000);
    wm.observe('live', 7000); // dead is now 6 s behind the newest
    expect(wm.current()).toBe(7000);
    expect(wm.idleSources()).toEqual(['dead']);
    // The dead switch comes back with old data: late, and the watermark stays put.
    expect(wm.observe('dead', 2000)).toBe(true);
    expect(wm.current()).toBe(7000);
    expect(wm.late).toBe(1);
  });

  it('does not call a record late when it is ahead of the watermark even if behind its own source', () => {
    const wm = new Watermark({ idleTimeoutMs: 5000 });
    wm.observe('a', 1000);
    wm.observe('b', 3000);
    expect(wm.current()).toBe(1000);
    expect(wm.observe('b', 2000)).toBe(false);
    expect(wm.observe('a', 500)).toBe(true);
  });

  it('takes no source for idle while its stream still has records waiting on the bus', () => {
    let waiting = true;
    const wm = new Watermark({ idleTimeoutMs: 5000, idleAllowed: () => !waiting });
    wm.observe('replayed', 1000); // a partition being replayed from the start...
    wm.observe('live', 9000); // ...behind one read from where it stood
    expect(wm.current()).toBe(1000);
    expect(wm.idleSources()).toEqual([]);
    wm.observe('replayed', 3000);
    expect(wm.current()).toBe(3000);
    // Caught up, and still silent: now it is idle.
    waiting = false;
    expect(wm.current()).toBe(9000);
    expect(wm.idleSources()).toEqual(['replayed']);
  });

  it('does not call an expected source late when its partition is read after the others', () => {
    let waiting = true;
    const wm = new Watermark({ idleTimeoutMs: 5000, idleAllowed: () => !waiting });
    wm.expect(['leaf-0', 'leaf-1', 'spine-0']);
    expect(wm.seen).toBe(false);
    // One partition read far ahead before the one holding leaf-1 is read at all.
    for (const t of [100, 200, 3000, 8000]) {
      wm.observe('leaf-0', t);
      wm.observe('spine-0', t);
    }
    expect(wm.seen).toBe(true);
    expect(wm.current()).toBe(Number.NEGATIVE_INFINITY);
    expect(wm.observe('leaf-1', 100)).toBe(false);
    expect(wm.current()).toBe(100);
    // A switch that never speaks is left out once nothing waits, like an idle one.
    const quiet = new Watermark({ idleTimeoutMs: 5000, idleAllowed: () => !waiting });
    quiet.expect(['leaf-0', 'dead']);
    quiet.observe('leaf-0', 8000);
    expect(quiet.current()).toBe(Number.NEGATIVE_INFINITY);
    waiting = false;
    expect(quiet.current()).toBe(8000);
  });
});
