/** GET /api/v1/stream: Server-Sent Events of new stalls and alert changes. */
import { Router } from 'express';
import { BackpressureError, NotFoundError } from '../../core/errors.js';
import { API_V1 } from '../paths.js';
import { API_EVENT_TYPES } from '../events.js';
import type { StreamHub } from '../stream-hub.js';
import { parseRequestPart, streamQuerySchema } from '../validation.js';

export function streamRouter(hub: StreamHub | undefined): Router {
  const router = Router();
  router.get(`${API_V1}/stream`, (req, res) => {
    const q = parseRequestPart(streamQuerySchema, req.query, 'query');
    if (!hub) throw new NotFoundError('no live stream: this server serves stored data only');
    if (hub.full) throw new BackpressureError(`too many stream clients (${hub.maxClients}); retry later`, 5);
    hub.serve(req, res, new Set(q.types ?? API_EVENT_TYPES));
  });
  return router;
}
