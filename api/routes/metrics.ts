/** GET /metrics: Prometheus text of the API's own telemetry plus the live pipeline's. */
import { Router } from 'express';
import type { Logger } from '../../core/log.js';
import type { LiveState } from '../live.js';
import type { ApiTelemetry } from '../telemetry.js';

export function metricsRouter(telemetry: ApiTelemetry, logger: Logger, live?: LiveState): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    let text = telemetry.render();
    if (live) {
      try {
        const extra = await live.metrics();
        if (extra) text += extra.endsWith('\n') ? extra : `${extra}\n`;
      } catch (e) {
        // Our own metrics still matter when the pipeline's cannot be rendered.
        logger.warn('live metrics failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
    res.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
  return router;
}
