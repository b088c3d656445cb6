/**
 * Request bodies are capped before any route runs. No endpoint reads a body today; one up to
 * the cap is read and dropped so a keep-alive connection stays usable. A larger one, declared
 * or chunked, is answered at once with a 413 and the connection closed, instead of memory or
 * time spent on it (body-parser would first drain the whole body before answering).
 */
import type { NextFunction, Request, Response } from 'express';
import { PayloadTooLargeError } from '../core/errors.js';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function bodyLimit(maxBytes: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const reject = (): void => {
      // The rest of the body is never read: the socket cannot be reused for another request.
      res.setHeader('Connection', 'close');
      next(new PayloadTooLargeError(maxBytes));
    };
    if (declared !== undefined && !(Number(declared) <= maxBytes)) return reject();
    if (!chunked && (declared === undefined || Number(declared) === 0)) return next();

    let received = 0;
    let decided = false;
    const decide = (action: () => void): void => {
      if (decided) return;
      decided = true;
      action();
    };
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) decide(reject);
    });
    req.on('end', () => decide(next));
    req.on('error', (e) => decide(() => next(e)));
  };
}
