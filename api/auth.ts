/**
 * Bearer-token authentication. Tokens come from configuration (`api_tokens`). Without tokens
 * the API is open, which createApiServer only allows on a loopback host: anyone who can reach
 * a non-loopback address would otherwise read the whole fabric's telemetry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { ConfigError, FabricscopeError } from '../core/errors.js';

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Refuses an open API on a reachable address: fail at startup, not at the first leak. */
export function assertAuthFitsHost(host: string, tokens: readonly string[]): void {
  if (tokens.length === 0 && !isLoopbackHost(host)) {
    throw new ConfigError(
      `the API would be open to the network on ${host}; set api_tokens or listen on a loopback host (127.0.0.1, ::1)`,
      'api_tokens',
    );
  }
}

/**
 * Tokens are compared as SHA-256 digests with timingSafeEqual: equal lengths by construction,
 * and every configured token is checked, so the time taken says nothing about how much of a
 * guess was right or which token matched.
 */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(candidate: string): boolean {
    const d = digest(candidate);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(known, d) || found;
    return found;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class UnauthorizedError extends FabricscopeError {
  constructor(message: string) {
    super('UNAUTHORIZED', message);
  }
}

/**
 * Routes that also take the token as `?access_token=` (RFC 6750 §2.3): only the live stream,
 * because a browser's EventSource cannot send an Authorization header, and everything else the
 * UI reads goes through fetch, which can. A token in a URL can end up in logs and histories, so
 * it is accepted nowhere else: this server logs no query strings, its pages send
 * `Referrer-Policy: no-referrer`, and EventSource URLs never enter the browser history.
 */
export const QUERY_TOKEN_PARAMETER = 'access_token';

/**
 * `Authorization: Bearer <token>`, or `?access_token=` on the `queryTokenPaths` (GET only);
 * a no-op when no tokens are configured.
 */
export function bearerAuth(tokens: TokenSet, queryTokenPaths: readonly string[] = []) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (tokens.size === 0) return next();
    const header = req.headers.authorization;
    const queryToken = req.method === 'GET' && queryTokenPaths.includes(req.path) ? req.query[QUERY_TOKEN_PARAMETER] : undefined;
    if (header === undefined && typeof queryToken === 'string' && queryToken !== '') {
      if (!tokens.has(queryToken)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="fabricscope", error="invalid_token"');
        return next(new UnauthorizedError(`invalid ${QUERY_TOKEN_PARAMETER}`));
      }
      return next();
    }
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    const refuse = (message: string): void => {
      // RFC 6750: tell the client which scheme is expected.
      res.setHeader('WWW-Authenticate', 'Bearer realm="fabricscope"');
      next(new UnauthorizedError(message));
    };
    if (!match) return refuse('missing bearer token (Authorization: Bearer <token>)');
    if (!tokens.has(match[1]!)) return refuse('invalid bearer token');
    next();
  };
}
