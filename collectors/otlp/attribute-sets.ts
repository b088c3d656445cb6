/**
 * Interned attribute maps. A switch sends the same few thousand attribute lists
 * (`interface=swp3, tc=2`) in every export; interning gives each distinct list one frozen
 * object, so decoders skip rebuilding it and the normaliser can cache per-series work by
 * object identity across payloads. Keys are the encoding's own bytes or tokens (protobuf wire
 * bytes, or a JSON key/value list), so two encodings never share a table.
 */
export type Attributes = Readonly<Record<string, string>>;

export const NO_ATTRIBUTES: Attributes = Object.freeze({});

export class AttributeInterner {
  private readonly byKey = new Map<string, Attributes>();

  /** Most distinct lists kept; past that the table starts over (senders choose attribute values). */
  constructor(private readonly limit = 65_536) {}

  get(key: string): Attributes | undefined {
    return this.byKey.get(key);
  }

  add(key: string, attributes: Record<string, string>): Attributes {
    if (this.byKey.size >= this.limit) this.byKey.clear();
    const frozen = Object.freeze(attributes);
    this.byKey.set(key, frozen);
    return frozen;
  }
}

interface ByteEntry {
  bytes: Uint8Array;
  attributes: Attributes;
  next?: ByteEntry;
}

/**
 * Interned attribute lists by their encoded bytes, hashed and compared in place: no key string
 * per data point (making and hashing one cost more than the rest of the point).
 */
export class AttributeBytesTable {
  private readonly byHash = new Map<number, ByteEntry>();
  private size = 0;

  constructor(private readonly limit = 65_536) {}

  /** The list whose bytes are buf[start, end); `hash` when the caller already has hashBytes of them. */
  find(buf: Uint8Array, start: number, end: number, hash = hashBytes(buf, start, end)): Attributes | undefined {
    for (let e = this.byHash.get(hash); e !== undefined; e = e.next) {
      const b = e.bytes;
      if (b.length !== end - start) continue;
      let i = 0;
      while (i < b.length && b[i] === buf[start + i]) i++;
      if (i === b.length) return e.attributes;
    }
    return undefined;
  }

  add(buf: Uint8Array, start: number, end: number, attributes: Record<string, string>): Attributes {
    // Past the limit, start over: senders choose attribute values.
    if (this.size >= this.limit) {
      this.byHash.clear();
      this.size = 0;
    }
    const hash = hashBytes(buf, start, end);
    const frozen = Object.freeze(attributes);
    // A copy: Buffer#slice is a view, and request buffers come from a pool that is reused.
    const bytes = Uint8Array.prototype.slice.call(buf, start, end);
    this.byHash.set(hash, { bytes, attributes: frozen, next: this.byHash.get(hash) });
    this.size++;
    return frozen;
  }
}

/** FNV-1a over buf[start, end). */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 16777619);
  return h | 0;
}
