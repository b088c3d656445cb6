/**
 * CORS, closed by default: without an allow-list no Access-Control-* header is ever sent, so
 * browsers keep other sites' pages from reading the API. Allowed origins are exact
 * `scheme://host[:port]` strings; `*` allows any (acceptable because auth is a bearer
 * header, never a cookie a browser would attach on its own).
 */
import type { NextFunction, Request, Response } from 'express';

const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Last-Event-ID';
const PREFLIGHT_MAX_AGE_S = '600';

export function cors(allowedOrigins: readonly string[]) {
  const any = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/+$/, '')));
  return (req: Request, res: Response, next: NextFunction): void => {
    if (allowed.size === 0) return next();
    // The answer depends on Origin: caches must not hand one origin's answer to another.
    res.vary('Origin');
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !(any || allowed.has(origin))) return next();
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
      res.status(204).end();
      return;
    }
    next();
  };
}
