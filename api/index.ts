/** Public surface of api/. */
export { createApiServer, type ApiServer, type ApiServerOptions, type ListeningServer } from './server.js';
export type { LiveState } from './live.js';
export { buildOpenApiDocument } from './openapi.js';
export type { ApiEvent, ApiEventSource, ApiEventType } from './events.js';
export type { StreamOptions } from './stream-hub.js';
export { DEFAULT_RATE_LIMIT, type RateLimitOptions } from './rate-limit.js';
export { DEFAULT_MAX_BODY_BYTES } from './body-limit.js';
export { isLoopbackHost } from './auth.js';
