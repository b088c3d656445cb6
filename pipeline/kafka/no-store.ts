/**
 * The store of a process that keeps none (a collector or a correlator on Kafka): the
 * pipeline's wiring wants a Store, but in these roles nothing may write or read through it —
 * the sink processes own storage. Using it is a wiring bug, reported as such.
 */
import type { Store } from '../../core/store.js';

const refuse = async (): Promise<never> => {
  throw new Error('this process keeps no store: storage belongs to the sink and api roles');
};

export const NO_STORE: Store = {
  migrate: async () => undefined,
  insert: refuse,
  listStalls: refuse,
  getStall: refuse,
  listAlerts: refuse,
  listGpus: refuse,
  counts: refuse,
  ping: async () => undefined,
  close: async () => undefined,
};
