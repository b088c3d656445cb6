/**
 * Time series of a port, a GPU or a job, downsampled to a step. Port and GPU names contain a
 * `/` (`leaf-3/p5`, `node-0/gpu-1`): the routes take the rest of the path, so the name may be
 * sent as is or URL-encoded (`leaf-3%2Fp5`).
 */
import { Router, type Request } from 'express';
import { isoOf } from '../../core/time.js';
import { API_V1 } from '../paths.js';
import type { QueryStore } from '../../core/store.js';
import {
  gpuPathSchema,
  gpuSeriesQuerySchema,
  jobPathSchema,
  parseRequestPart,
  portPathSchema,
  seriesQuerySchema,
} from '../validation.js';
import { seriesWindowOf } from '../time-window.js';
import { portSeriesPointView, seriesPointView } from '../views.js';

/** A `*name` wildcard arrives as decoded path segments; the name is them joined back. */
const restOfPath = (req: Request, key: string): unknown => {
  const v = (req.params as Record<string, unknown>)[key];
  return Array.isArray(v) ? v.join('/') : v;
};

const windowView = (w: { from_ms: number; to_ms: number; step_ms: number }) => ({
  from: isoOf(w.from_ms),
  to: isoOf(w.to_ms),
  step_ms: w.step_ms,
});

export function seriesRouter(store: () => QueryStore): Router {
  const router = Router();

  router.get(`${API_V1}/series/port/*port`, async (req, res) => {
    const { port } = parseRequestPart(portPathSchema, { port: restOfPath(req, 'port') }, 'params');
    const window = seriesWindowOf(parseRequestPart(seriesQuerySchema, req.query, 'query'), Date.now());
    const series = await store().portSeries(port, window);
    res.json({ port, ...windowView(window), resolution: series.resolution, points: series.points.map(portSeriesPointView) });
  });

  router.get(`${API_V1}/series/gpu/*gpu`, async (req, res) => {
    const { gpu } = parseRequestPart(gpuPathSchema, { gpu: restOfPath(req, 'gpu') }, 'params');
    const q = parseRequestPart(gpuSeriesQuerySchema, req.query, 'query');
    const window = seriesWindowOf(q, Date.now());
    const points = await store().gpuSeries(gpu, window, q.fields);
    res.json({ gpu, ...windowView(window), points: points.map(seriesPointView) });
  });

  router.get(`${API_V1}/series/job/:job`, async (req, res) => {
    const { job } = parseRequestPart(jobPathSchema, req.params, 'params');
    const window = seriesWindowOf(parseRequestPart(seriesQuerySchema, req.query, 'query'), Date.now());
    const points = await store().jobSeries(job, window);
    res.json({ job, ...windowView(window), points: points.map(seriesPointView) });
  });

  return router;
}
