/**
 * Label-set fingerprints and alert ids. An alert is identified by its label set (as in
 * Prometheus and Alertmanager); one episode of it (from becoming active to resolving) by the
 * fingerprint plus the event time it became active. Both are pure functions of the data, so a
 * replay produces the same ids and the store's idempotent inserts deduplicate them.
 */

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
/** Separates names and values so {a="bc"} and {ab="c"} differ. */
const SEPARATOR = 0xff;

/** 16 hex digits: FNV-1a 64 over the labels sorted by name. */
export function fingerprint(labels: Readonly<Record<string, string>>): string {
  let h = FNV_OFFSET;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & MASK;
  };
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    feed(enc.encode(name));
    feed(Uint8Array.of(SEPARATOR));
    feed(enc.encode(labels[name]!));
    feed(Uint8Array.of(SEPARATOR));
  }
  return h.toString(16).padStart(16, '0');
}

export function alertId(labels: Readonly<Record<string, string>>, activeAtMs: number): string {
  return `${fingerprint(labels)}-${activeAtMs}`;
}

/** Labels sorted by name: stable JSON for keys and payloads. */
export function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]!]));
}
