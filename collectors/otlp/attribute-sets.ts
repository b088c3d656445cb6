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
