/**
 * OTLP switch metrics (NVIDIA Cumulus vocabulary) → PortSample, one per (port, timestamp).
 * A switch exports one data point per metric family, port and traffic class/priority; this
 * folds the families of one port and instant into the canonical record, turning cumulative
 * counters into interval deltas (summed over TCs / priorities) and summing queue gauges.
 *
 * Port name = `${host.name}/${interface}`; device = host.name.
 */
import type { PortSample } from '../../core/records.js';
import { CounterDeltas, type CounterTransaction } from '../counter-deltas.js';
import type { OtlpNumberPoint } from './otlp-points.js';

type CounterField =
  | 'tx_bytes'
  | 'ecn_marked_pkts'
  | 'pfc_tx_pause_frames'
  | 'pfc_rx_pause_frames'
  | 'pfc_rx_pause_us'
  | 'credit_stall_us'
  | 'link_errors';

type MetricRole =
  | { role: 'counter'; field: CounterField }
  | { role: 'queue' }
  | { role: 'oper_state' }
  /** Known and valid, but no canonical field carries it (yet). */
  | { role: 'ignored' };

/**
 * Metric name → canonical field. Cumulus exports several counters as gauges holding the
 * running total (if_out_octets, dot3 counters), so "counter" is decided by the name, not
 * by the OTLP kind; a sum with delta temporality is taken as already being a delta.
 */
export const PORT_METRICS: Readonly<Record<string, MetricRole>> = {
  nvswitch_interface_shared_buffer_port_tc_curr_occupancy: { role: 'queue' },
  nvswitch_interface_shared_buffer_port_tc_watermark: { role: 'ignored' },
  nvswitch_interface_tc_tx_ecn_marked_tc: { role: 'counter', field: 'ecn_marked_pkts' },
  nvswitch_interface_sp_tx_pause: { role: 'counter', field: 'pfc_tx_pause_frames' },
  nvswitch_interface_sp_rx_pause: { role: 'counter', field: 'pfc_rx_pause_frames' },
  nvswitch_interface_sp_rx_pause_duration: { role: 'counter', field: 'pfc_rx_pause_us' },
  nvswitch_interface_if_out_octets: { role: 'counter', field: 'tx_bytes' },
  nvswitch_interface_dot3_stats_fcs_errors: { role: 'counter', field: 'link_errors' },
  nvswitch_interface_dot3_stats_symbol_errors: { role: 'counter', field: 'link_errors' },
  nvswitch_interface_oper_state: { role: 'oper_state' },
  fabricscope_scaleup_credit_stall_microseconds_total: { role: 'counter', field: 'credit_stall_us' },
};

/** Cumulus oper_state bitmap: 1 = up. */
const OPER_UP = 1;

export interface PortNormalisation {
  samples: PortSample[];
  /** Data points of known metrics that could not be attributed (no host.name, no interface). */
  rejected: number;
  /** First few rejection reasons, for the partialSuccess message and logs. */
  reasons: string[];
  /** Port samples dropped because they are not newer than what was already seen (resends). */
  stale: number;
  /** Keeps the counter state of this batch; call once the samples are published. */
  commit(): void;
}

interface Building {
  sample: PortSample;
  points: OtlpNumberPoint[];
}

export class PortSampleNormaliser {
  private readonly deltas: CounterDeltas;
  /** Last known oper state per port, for samples whose payload omitted the family. */
  private readonly operUp = new Map<string, boolean>();

  constructor(deltas: CounterDeltas = new CounterDeltas()) {
    this.deltas = deltas;
  }

  normalise(points: readonly OtlpNumberPoint[]): PortNormalisation {
    const reasons: string[] = [];
    let rejected = 0;
    const reject = (reason: string) => {
      rejected++;
      if (reasons.length < 5) reasons.push(reason);
    };

    const byPortTime = new Map<string, Building>();
    for (const p of points) {
      const role = PORT_METRICS[p.metric];
      if (role === undefined || role.role === 'ignored') continue;
      const device = p.resource['host.name'];
      if (!device) {
        reject(`${p.path}: resource attribute host.name is missing`);
        continue;
      }
      const iface = p.attributes['interface'];
      if (!iface) {
        reject(`${p.path}: attribute interface is missing`);
        continue;
      }
      const port = `${device}/${iface}`;
      const key = `${port}@${p.time_ms}`;
      let b = byPortTime.get(key);
      if (!b) {
        b = { sample: emptySample(port, device, p.time_ms), points: [] };
        byPortTime.set(key, b);
      }
      b.points.push(p);
    }

    const tx = this.deltas.transaction();
    const operUpdates = new Map<string, boolean>();
    const samples: PortSample[] = [];
    let stale = 0;
    // Oldest first, so a batch carrying several instants of one port yields proper deltas.
    const ordered = [...byPortTime.values()].sort((a, b) => a.sample.ts_ms - b.sample.ts_ms);
    for (const { sample, points: pts } of ordered) {
      const interval = tx.observe(`port:${sample.port}`, { value: 0, ts_ms: sample.ts_ms });
      if (interval === undefined) {
        stale++;
        continue;
      }
      sample.interval_ms = interval.interval_ms;
      let oper: boolean | undefined;
      for (const p of pts) {
        const role = PORT_METRICS[p.metric]!;
        if (role.role === 'queue') sample.queue_bytes += p.value;
        else if (role.role === 'oper_state') oper = p.value === OPER_UP;
        else if (role.role === 'counter') sample[role.field] += counterDelta(tx, sample.port, p);
      }
      sample.oper_up = oper ?? operUpdates.get(sample.port) ?? this.operUp.get(sample.port) ?? true;
      operUpdates.set(sample.port, sample.oper_up);
      samples.push(sample);
    }
    return {
      samples,
      rejected,
      reasons,
      stale,
      commit: () => {
        tx.commit();
        for (const [port, up] of operUpdates) this.operUp.set(port, up);
      },
    };
  }
}

function counterDelta(tx: CounterTransaction, port: string, p: OtlpNumberPoint): number {
  // A delta-temporality sum already carries the interval's increase.
  if (p.kind === 'sum' && p.temporality === 1) return p.value;
  const series = Object.entries(p.attributes)
    .filter(([k]) => k !== 'interface')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const d = tx.observe(`${port}|${p.metric}|${series}`, { value: p.value, ts_ms: p.time_ms, start_ms: p.start_ms });
  return d?.delta ?? 0;
}

function emptySample(port: string, device: string, ts_ms: number): PortSample {
  return {
    ts_ms,
    port,
    device,
    interval_ms: 0,
    queue_bytes: 0,
    tx_bytes: 0,
    ecn_marked_pkts: 0,
    pfc_tx_pause_frames: 0,
    pfc_rx_pause_frames: 0,
    pfc_rx_pause_us: 0,
    credit_stall_us: 0,
    link_errors: 0,
    oper_up: true,
  };
}
