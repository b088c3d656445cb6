/**
 * The built-in UI: its static files at `/` (built into dist/ui by `npm run build`), and
 * /ui/config.json, which tells the page whether this server has a live stream to open
 * (`up`) or serves stored data only (`serve`), so it never requests a stream that is not there,
 * and whether the API wants a token, so the page asks for one before its first request.
 */
import express, { Router } from 'express';
import { existsSync } from 'node:fs';
import { UI_DIR } from '../../dashboards/ui/ui-directory.js';

export function uiRouter(options: { live: boolean; auth: boolean; version: string }): Router {
  const router = Router();
  router.get('/ui/config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ live: options.live, auth: options.auth, version: options.version });
  });
  if (existsSync(UI_DIR)) router.use(express.static(UI_DIR, { index: 'index.html', maxAge: 0 }));
  return router;
}
