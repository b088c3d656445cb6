/** GET /api/v1/stalls and /api/v1/stalls/:id. */
import { Router } from 'express';
import { API_V1 } from '../paths.js';
import { InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { DEFAULT_LIMIT, emptyQuerySchema, parseRequestPart, stallPathSchema, stallQuerySchema } from '../validation.js';
import { encodeCursor } from '../cursor.js';
import { stallDetailView, stallSummaryView } from '../views.js';

export function stallsRouter(store: Store): Router {
  const router = Router();

  router.get(`${API_V1}/stalls`, async (req, res) => {
    const q = parseRequestPart(stallQuerySchema, req.query, 'query');
    if (q.from !== undefined && q.to !== undefined && q.to < q.from) {
      throw new InvalidArgumentError('must not be earlier than from', 'query.to');
    }
    const limit = q.limit ?? DEFAULT_LIMIT;
    // One row more than asked tells whether a next page exists without a second query.
    const rows = await store.listStalls({
      from_ms: q.from,
      to_ms: q.to,
      job: q.job,
      kind: q.kind,
      location: q.location,
      min_duration_us: q.min_duration_us,
      after: q.cursor,
      // The listing shows no per-rank timings (GET /stalls/:id does): do not read them.
      include_ranks: false,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next_cursor = rows.length > limit && last ? encodeCursor({ start_ms: last.start_ms, id: last.id }) : null;
    // `stalls` is DESIGN.md's contract; `next_cursor` sits beside it.
    res.json({ stalls: page.map(stallSummaryView), next_cursor });
  });

  router.get(`${API_V1}/stalls/:id`, async (req, res) => {
    const { id } = parseRequestPart(stallPathSchema, req.params, 'params');
    parseRequestPart(emptyQuerySchema, req.query, 'query');
    const stall = await store.getStall(id);
    if (!stall) throw new NotFoundError(`no stall with id "${id}"`);
    res.json({ stall: stallDetailView(stall) });
  });

  return router;
}
