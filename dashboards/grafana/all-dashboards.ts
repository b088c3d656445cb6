/** Every fabricscope Grafana dashboard, by the file name it is written under. */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { alertsDashboard } from './alerts.js';
import { fabricOverview } from './fabric-overview.js';
import { gpuHealth } from './gpu-health.js';
import { jobDeterminism } from './job-determinism.js';
import { stallDrillDown } from './stall-drilldown.js';

export const DASHBOARDS: ReadonlyArray<{ file: string; build: () => dashboard.DashboardBuilder }> = [
  { file: 'fabric-overview.json', build: fabricOverview },
  { file: 'job-determinism.json', build: jobDeterminism },
  { file: 'stall-drilldown.json', build: stallDrillDown },
  { file: 'gpu-health.json', build: gpuHealth },
  { file: 'alerts.json', build: alertsDashboard },
];
