/**
 * Opaque pagination cursors for the stall listing. A cursor is the sort key of the last row
 * of a page, (start, id), as base64url JSON: clients must not build or read it, and the
 * server checks its shape before it reaches the store.
 */
import type { StallPosition } from '../core/store.js';

/** Far more than a position needs; bounds what a hostile cursor costs to decode. */
export const MAX_CURSOR_LENGTH = 512;
const MAX_ID_LENGTH = 256;

export function encodeCursor(position: StallPosition): string {
  return Buffer.from(JSON.stringify([position.start_ms, position.id]), 'utf8').toString('base64url');
}

/** The position a cursor encodes, or undefined when it is not one this server made. */
export function decodeCursor(cursor: string): StallPosition | undefined {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [start_ms, id] = value as [unknown, unknown];
  if (typeof start_ms !== 'number' || !Number.isSafeInteger(start_ms) || start_ms < 0) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) return undefined;
  return { start_ms, id };
}
