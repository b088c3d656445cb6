/** Wraps a Store so every failed operation is counted in the API's telemetry, then rethrown. */
import { isQueryStore, type QueryStore, type Store } from '../core/store.js';
import type { ApiTelemetry } from './telemetry.js';

/** Returns a QueryStore when given one, so the API's analytical routes stay available. */
export function instrumentStore(store: Store, telemetry: ApiTelemetry): Store | QueryStore {
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
  const base: Store = {
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
  if (!isQueryStore(store)) return base;
  const queries: QueryStore = {
    ...base,
    topRootCauses: counted('topRootCauses', (f) => store.topRootCauses(f)),
    portSeries: counted('portSeries', (port, w) => store.portSeries(port, w)),
    gpuSeries: counted('gpuSeries', (gpu, w, fields) => store.gpuSeries(gpu, w, fields)),
    jobSeries: counted('jobSeries', (job, w) => store.jobSeries(job, w)),
    portStates: counted('portStates', (w) => store.portStates(w)),
    listJobs: counted('listJobs', (w) => store.listJobs(w)),
  };
  return queries;
}
