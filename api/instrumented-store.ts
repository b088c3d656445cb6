/** Wraps a Store so every failed operation is counted in the API's telemetry, then rethrown. */
import type { Store } from '../core/store.js';
import type { ApiTelemetry } from './telemetry.js';

export function instrumentStore(store: Store, telemetry: ApiTelemetry): Store {
  const counted =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (e) {
        telemetry.storeErrors.inc({ operation });
        throw e;
      }
    };
  return {
    migrate: counted('migrate', () => store.migrate()),
    insert: counted('insert', (topic, rows) => store.insert(topic, rows)) as Store['insert'],
    listStalls: counted('listStalls', (f) => store.listStalls(f)),
    getStall: counted('getStall', (id) => store.getStall(id)),
    listAlerts: counted('listAlerts', (f) => store.listAlerts(f)),
    listGpus: counted('listGpus', () => store.listGpus()),
    counts: counted('counts', () => store.counts()),
    ping: counted('ping', () => store.ping()),
    close: () => store.close(),
  };
}
