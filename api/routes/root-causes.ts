/** GET /api/v1/root-causes: the top culprits over a window, by stall count and by GPU time lost. */
import { Router } from 'express';
import { InvalidArgumentError } from '../../core/errors.js';
import { isoOf } from '../../core/time.js';
import { API_V1 } from '../paths.js';
import type { QueryStore } from '../../core/store.js';
import { DEFAULT_ROOT_CAUSES, parseRequestPart, rootCauseQuerySchema } from '../validation.js';
import { rootCauseView } from '../views.js';

export function rootCausesRouter(store: () => QueryStore): Router {
  const router = Router();
  router.get(`${API_V1}/root-causes`, async (req, res) => {
    const q = parseRequestPart(rootCauseQuerySchema, req.query, 'query');
    if (q.from !== undefined && q.to !== undefined && q.to < q.from) {
      throw new InvalidArgumentError('must not be earlier than from', 'query.to');
    }
    const top = await store().topRootCauses({ from_ms: q.from, to_ms: q.to, job: q.job, limit: q.limit ?? DEFAULT_ROOT_CAUSES });
    res.json({
      from: q.from === undefined ? null : isoOf(q.from),
      to: q.to === undefined ? null : isoOf(q.to),
      by_stalls: top.by_stalls.map(rootCauseView),
      by_gpu_seconds_lost: top.by_gpu_seconds_lost.map(rootCauseView),
    });
  });
  return router;
}
