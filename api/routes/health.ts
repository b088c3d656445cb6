/**
 * Liveness and readiness. /healthz only says the process answers (restart me if not);
 * /readyz says whether it can serve (store reachable, live pipeline up), so a load balancer
 * routes around it meanwhile.
 */
import { Router } from 'express';
import { FabricscopeError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import type { LiveState } from '../live.js';

/** A store that hangs must make readiness fail, not hang the probe. */
const PING_TIMEOUT_MS = 2000;

export function healthRouter(store: Store, live?: LiveState): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(store.ping(), PING_TIMEOUT_MS);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new FabricscopeError('NOT_READY', `store not answering: ${reason}`, { cause: e });
    }
    if (live && !live.ready()) throw new FabricscopeError('NOT_READY', 'live pipeline not ready');
    res.json({ status: 'ready' });
  });

  return router;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
