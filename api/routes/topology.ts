/**
 * GET /api/v1/topology: every port with its current state, and GET /api/v1/jobs: jobs and
 * their placement. With a topology (from the simulator or a site's inventory) every port is
 * listed with its role and far end, silent ones with `state: null`; without one, the ports
 * that reported in the window.
 */
import { Router } from 'express';
import { isoOf } from '../../core/time.js';
import type { QueryStore } from '../../core/store.js';
import type { Topology } from '../../core/topology.js';
import { API_V1 } from '../paths.js';
import { DEFAULT_STATE_LOOKBACK_MS, jobsWindowOf, timeWindowOf } from '../time-window.js';
import { jobsQuerySchema, parseRequestPart, topologyQuerySchema } from '../validation.js';
import { jobView, portStateView } from '../views.js';

interface PortEntry {
  name: string;
  device: string;
  role: string | null;
  peer: string | null;
  capacity_gbps: number | null;
  state: ReturnType<typeof portStateView> | null;
}

export function topologyRouter(store: () => QueryStore, topology?: Topology): Router {
  const router = Router();

  router.get(`${API_V1}/topology`, async (req, res) => {
    const q = parseRequestPart(topologyQuerySchema, req.query, 'query');
    const window = timeWindowOf(q, Date.now(), DEFAULT_STATE_LOOKBACK_MS);
    const states = new Map((await store().portStates(window)).map((s) => [s.port, s]));
    const known = topology ? [...topology.ports.values()] : [];
    const ports: PortEntry[] = known.map((p) => {
      const state = states.get(p.name);
      states.delete(p.name);
      return {
        name: p.name,
        device: p.device,
        role: p.role,
        peer: p.peer,
        capacity_gbps: (p.capacity_bps * 8) / 1e9,
        state: state ? portStateView(state) : null,
      };
    });
    // Ports that report but the topology does not know (or there is no topology).
    for (const s of states.values()) {
      ports.push({ name: s.port, device: s.device, role: null, peer: null, capacity_gbps: null, state: portStateView(s) });
    }
    res.json({ at: isoOf(window.to_ms), topology: topology ? topology.spec : null, ports });
  });

  router.get(`${API_V1}/jobs`, async (req, res) => {
    const window = jobsWindowOf(parseRequestPart(jobsQuerySchema, req.query, 'query'), Date.now());
    const jobs = await store().listJobs(window);
    res.json({ from: isoOf(window.from_ms), to: isoOf(window.to_ms), jobs: jobs.map(jobView) });
  });

  return router;
}
