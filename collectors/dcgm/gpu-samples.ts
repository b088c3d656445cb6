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
    const id = identityOf(s.labels, fallbackHost);
    if (id === undefined) {
      skipped++;
      continue;
    }
    if (!Number.isFinite(s.value) || Math.abs(s.value) >= DCGM_BLANK_THRESHOLD) {
      blank++;
      continue;
    }
    const ts_ms = s.timestamp_ms ?? fallbackTsMs;
    const key = ts_ms === fallbackTsMs ? id.gpu : `${id.gpu}@${ts_ms}`;
    let g = out.get(key);
    if (!g) {
      g = { ts_ms, gpu: id.gpu, node: id.node, uuid: '', model: '', metrics: {} };
      out.set(key, g);
    }
    g.uuid ||= id.uuid;
    g.model ||= id.model;
    g.metrics[id.extra === '' ? s.name : `${s.name}{${id.extra}}`] = s.value;
  }
  return { samples: [...out.values()], skipped, blank };
}

/** What a label set says about its GPU; derived once per label set (parsers share label-set objects). */
interface GpuIdentity {
  fallbackHost: string;
  gpu: string;
  node: string;
  uuid: string;
  model: string;
  /** Series labels (`clock_event="gpu_idle"`), sorted, for the metric key; '' for none. */
  extra: string;
}

const identities = new WeakMap<Readonly<Record<string, string>>, GpuIdentity | null>();

function identityOf(l: Readonly<Record<string, string>>, fallbackHost: string): GpuIdentity | undefined {
  const cached = identities.get(l);
  if (cached === null) return undefined;
  if (cached !== undefined && cached.fallbackHost === fallbackHost) return cached;
  const gpuIndex = l.gpu;
  if (gpuIndex === undefined || gpuIndex === '') {
    identities.set(l, null);
    return undefined;
  }
  const node = nodeOf(l.Hostname || l.hostname || fallbackHost);
  const mig = l.GPU_I_ID ? `/mig-${l.GPU_I_ID}` : '';
  const extra = Object.keys(l)
    .filter((k) => !isIdentityLabel(k))
    .sort()
    .map((k) => `${k}="${l[k]}"`)
    .join(',');
  const id: GpuIdentity = {
    fallbackHost,
    gpu: `${node}/gpu-${gpuIndex}${mig}`,
    node,
    uuid: l.UUID || l.uuid || l.gpu_uuid || '',
    model: l.modelName || l.model_name || '',
    extra,
  };
  identities.set(l, id);
  return id;
}

/** `node-3.cluster.local` → `node-3`: the cluster naming wins over a resolver's FQDN. */
function nodeOf(host: string): string {
  const m = /^(node-\d+)\./.exec(host);
  return m ? m[1]! : host;
}
