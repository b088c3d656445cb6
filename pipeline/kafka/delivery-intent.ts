/**
 * Exactly-once deliveries to a downstream write. A delivery is a contiguous offset range of
 * one partition; its id `topic/partition/first-last` becomes the storage insert
 * deduplication token. The catch is that a re-delivery after a crash must have the same
 * boundaries, or the token differs and the rows are written twice. So before a range is
 * handed to the handler, its last offset is committed as the group's *intent* in the offset
 * commit's metadata (the committed offset itself stays at the range's start). After a crash,
 * rebalance or restart, whoever resumes the partition reads the intent and delivers exactly
 * that range first; only then does it cut ranges freely again.
 *
 *   commit(offset=first, metadata={"through":last})  →  handler(range, id)  →  commit(last+1)
 */

export interface DeliveryRange {
  partition: number;
  first: string;
  last: string;
}

export function deliveryId(topic: string, range: DeliveryRange): string {
  return `${topic}/${range.partition}/${range.first}-${range.last}`;
}

export function encodeIntent(through: string): string {
  return JSON.stringify({ through });
}

/** The last offset a previous owner meant to deliver from the committed offset, if any. */
export function decodeIntent(metadata: string | null | undefined): string | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { through?: unknown };
    return typeof parsed.through === 'string' ? parsed.through : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cuts a partition's fetched messages (offsets ascending) into ranges of at most `maxSize`,
 * the first ending exactly at `intentThrough` when a previous owner left an intent.
 * Returns the ranges as index spans [from, to) into the messages; messages past the intent
 * are only cut when the intent's range is complete in `offsets`.
 */
export function cutRanges(offsets: readonly bigint[], maxSize: number, intentThrough?: bigint): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let start = 0;
  if (intentThrough !== undefined) {
    const end = offsets.findIndex((o) => o > intentThrough);
    if (end === -1 && offsets[offsets.length - 1] !== intentThrough) return []; // wait for the rest of it
    const stop = end === -1 ? offsets.length : end;
    if (stop > 0) spans.push([0, stop]);
    start = stop;
  }
  for (let i = start; i < offsets.length; i += maxSize) spans.push([i, Math.min(i + maxSize, offsets.length)]);
  return spans;
}
