/** GET /api/v1/gpus: every GPU seen, with its latest DCGM values. */
import { Router } from 'express';
import { API_V1 } from '../paths.js';
import type { Store } from '../../core/store.js';
import { emptyQuerySchema, parseRequestPart } from '../validation.js';
import { gpuView } from '../views.js';

export function gpusRouter(store: Store): Router {
  const router = Router();
  router.get(`${API_V1}/gpus`, async (req, res) => {
    parseRequestPart(emptyQuerySchema, req.query, 'query');
    const gpus = await store.listGpus();
    res.json({ gpus: gpus.map(gpuView) });
  });
  return router;
}
