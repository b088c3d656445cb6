/**
 * Reads a request body with a size limit, inflating `Content-Encoding: gzip`. The limit
 * applies both on the wire and after decompression, so a small gzip bomb cannot blow up
 * memory either.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { FabricscopeError, PayloadError, PayloadTooLargeError } from '../core/errors.js';

const gunzipAsync = promisify(gunzip);

export class UnsupportedMediaTypeError extends FabricscopeError {
  constructor(message: string) {
    super('UNSUPPORTED_MEDIA_TYPE', message);
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${encoding} is not supported (use gzip or none)`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(maxBytes);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks, size);
  if (encoding !== 'gzip') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new PayloadTooLargeError(maxBytes);
    throw new PayloadError(`not valid gzip: ${(e as Error).message}`, 'body');
  }
}

/** The media type of a request without parameters, lower-cased (`application/json`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}
