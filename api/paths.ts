/**
 * Routes are registered with their full paths (no mounted sub-routers) so that `req.route`
 * alone names the pattern, which /metrics uses as a bounded label.
 */
export const API_V1 = '/api/v1';
