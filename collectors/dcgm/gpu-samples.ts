/**
 * dcgm-exporter samples → GpuSample, one per GPU (or MIG instance) and timestamp.
 *
 * Label variants across exporter versions are all accepted: `Hostname` (every release) or
 * `hostname` (newer main), `UUID` or `uuid` (`-o` mode), `modelName`; MIG adds
 * `GPU_I_PROFILE`/`GPU_I_ID`; Kubernetes mode adds pod labels. Names: `node-<n>/gpu-<g>`
 * when the host follows the cluster naming, else `<host>/gpu-<g>`; a MIG instance gets a
 * `/mig-<GPU_I_ID>` suffix so its fields do not overwrite the parent's.
 *
 * Metric keys are DCGM field names. Labels that tell series of one GPU apart (e.g. `xid`,
 * `clock_event`, `nvlink`) stay in the key, `DCGM_EXP_CLOCK_EVENTS_COUNT{clock_event="gpu_idle"}`,
 * so such families do not collapse into one value.
 */
import type { GpuSample } from '../../core/records.js';
import type { PromSample } from './prometheus-text.js';

/** Labels that describe the GPU or its tenant, not the series. */
const IDENTITY_LABELS = new Set([
  'gpu', 'UUID', 'uuid', 'gpu_uuid', 'pci_bus_id', 'device', 'modelName', 'model_name', 'Hostname', 'hostname',
  'GPU_I_PROFILE', 'GPU_I_ID', 'container', 'namespace', 'pod', 'pod_uid', 'pod_name', 'pod_namespace',
  'container_name', 'vgpu', 'hpc_job', 'window_size_in_ms', 'job', 'instance',
]);
const isIdentityLabel = (label: string) =>
  IDENTITY_LABELS.has(label) || label.startsWith('DCGM_FI_') || label.startsWith('dra_');

/** DCGM "blank" sentinels (no data) leak as huge int64 values; they are not measurements. */
const DCGM_BLANK_THRESHOLD = 9.2e18;

export interface GpuNormalisation {
  samples: GpuSample[];
  /** Samples without a `gpu` label (NvSwitch, CPU entities, exporter internals). */
  skipped: number;
  /** NaN, ±Inf or DCGM blank values left out of `metrics`. */
  blank: number;
}

/**
 * @param fallbackTsMs timestamp for lines without one (real exporters): the scrape time.
 * @param fallbackHost host for series without a hostname label, e.g. the target's host.
 */
export function toGpuSamples(samples: readonly PromSample[], fallbackTsMs: number, fallbackHost = 'unknown'): GpuNormalisation {
  const out = new Map<string, GpuSample>();
  let skipped = 0;
  let blank = 0;
  for (const s of samples) {
    const l = s.labels;
    const gpuIndex = l.gpu;
    if (gpuIndex === undefined || gpuIndex === '') {
      skipped++;
      continue;
    }
    if (!Number.isFinite(s.value) || Math.abs(s.value) >= DCGM_BLANK_THRESHOLD) {
      blank++;
      continue;
    }
    const host = nodeOf(l.Hostname || l.hostname || fallbackHost);
    const node = host;
    const mig = l.GPU_I_ID ? `/mig-${l.GPU_I_ID}` : '';
    const gpu = `${host}/gpu-${gpuIndex}${mig}`;
    const ts_ms = s.timestamp_ms ?? fallbackTsMs;
    const key = `${gpu}@${ts_ms}`;
    let g = out.get(key);
    if (!g) {
      g = { ts_ms, gpu, node, uuid: '', model: '', metrics: {} };
      out.set(key, g);
    }
    g.uuid ||= l.UUID || l.uuid || l.gpu_uuid || '';
    g.model ||= l.modelName || l.model_name || '';
    g.metrics[metricKey(s)] = s.value;
  }
  return { samples: [...out.values()], skipped, blank };
}

/** `node-3.cluster.local` → `node-3`: the cluster naming wins over a resolver's FQDN. */
function nodeOf(host: string): string {
  const m = /^(node-\d+)\./.exec(host);
  return m ? m[1]! : host;
}

function metricKey(s: PromSample): string {
  const extra = Object.keys(s.labels)
    .filter((k) => !isIdentityLabel(k))
    .sort();
  if (extra.length === 0) return s.name;
  return `${s.name}{${extra.map((k) => `${k}="${s.labels[k]}"`).join(',')}}`;
}
