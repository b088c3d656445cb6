/** Public surface of api/. */
export { createApiServer, type ApiServer, type ApiServerOptions, type ListeningServer } from './server.js';
export type { LiveState } from './live.js';
export { buildOpenApiDocument } from './openapi.js';
