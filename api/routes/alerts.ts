/** GET /api/v1/alerts. */
import { Router } from 'express';
import { API_V1 } from '../paths.js';
import type { Store } from '../../core/store.js';
import { DEFAULT_LIMIT, alertQuerySchema, parseRequestPart } from '../validation.js';
import { alertView } from '../views.js';

export function alertsRouter(store: Store): Router {
  const router = Router();
  router.get(`${API_V1}/alerts`, async (req, res) => {
    const q = parseRequestPart(alertQuerySchema, req.query, 'query');
    const alerts = await store.listAlerts({ state: q.state, limit: q.limit ?? DEFAULT_LIMIT });
    res.json({ alerts: alerts.map(alertView) });
  });
  return router;
}
