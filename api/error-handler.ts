/**
 * One error body for every failure: `{"error":{"code","message","where"?}}`, status from the
 * core/errors.ts hierarchy. Unexpected errors become a bare 500 (logged with their stack,
 * never sent); a bad request never takes the process down.
 */
import type { NextFunction, Request, Response } from 'express';
import { FabricscopeError, NotFoundError, asFabricscopeError, isFabricscopeError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ApiTelemetry } from './telemetry.js';

/** Terminal middleware for URLs no route matched. */
export function notFound() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    next(new NotFoundError(`no route for ${req.method} ${req.path.length > 128 ? `${req.path.slice(0, 128)}…` : req.path}`));
  };
}

/** Errors raised by express itself or its body parsers carry a 4xx `status` and are safe to expose. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

function fromHttpError(e: HttpLikeError): FabricscopeError | undefined {
  const status = e.status ?? e.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500 || e.expose === false) return undefined;
  const message = e.message ?? 'bad request';
  if (status === 404) return new NotFoundError(message);
  if (status === 413) return new FabricscopeError('PAYLOAD_TOO_LARGE', message);
  if (status === 415) return new FabricscopeError('UNSUPPORTED_MEDIA_TYPE', message);
  return new FabricscopeError('INVALID_ARGUMENT', message);
}

/** What a client may see of a server-side failure. */
const PUBLIC_5XX_MESSAGE: Partial<Record<FabricscopeError['code'], string>> = {
  INTERNAL: 'internal error',
  STORAGE_ERROR: 'the store could not answer; try again later',
  BUS_ERROR: 'the bus could not answer; try again later',
};

export function errorHandler(logger: Logger, telemetry: ApiTelemetry) {
  // Express recognises error middleware by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const error = isFabricscopeError(err) ? err : (fromHttpError(err as HttpLikeError) ?? asFabricscopeError(err));
    const status = error.httpStatus;
    telemetry.apiErrors.inc({ code: error.code });
    if (status >= 500) {
      logger.error('request failed', {
        method: req.method,
        path: req.path,
        code: error.code,
        error: err instanceof Error ? err.stack : String(err),
        cause: error.cause instanceof Error ? error.cause.message : undefined,
      });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = error.toJSON();
    const publicMessage = PUBLIC_5XX_MESSAGE[error.code];
    if (publicMessage) body.error.message = publicMessage;
    const retryAfterS = (error as { retryAfterS?: unknown }).retryAfterS;
    if (typeof retryAfterS === 'number') res.setHeader('Retry-After', String(retryAfterS));
    else if (error.code === 'NOT_READY') res.setHeader('Retry-After', '1');
    res.status(status).json(body);
  };
}
