/**
 * Seeded randomness for the simulator. Everything random (jitter, hashes, UUIDs, pids) comes
 * from here so that the same seed and scenario give byte-identical telemetry.
 */

/** 32-bit FNV-1a over a string: stable across runs and platforms, used for ECMP and ids. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche so that short, similar keys spread over the whole range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hex digits derived from a key, `length` characters long. */
export function hashHex(key: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i++) out += hash32(`${key}#${i}`).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

/** A small, fast seeded generator (mulberry32 scheme); one instance per independent stream. */
export class Prng {
  private state: number;

  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hash32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
}
