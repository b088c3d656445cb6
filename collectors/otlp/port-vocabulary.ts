/**
 * Switch metric names → the canonical PortSample field each one feeds. Three vocabularies:
 *
 * - NVIDIA Cumulus OTLP (`nvswitch_interface_*`, Cumulus Linux 5.x telemetry export);
 * - SONiC / SAI counter names (`SAI_PORT_STAT_*`, `SAI_QUEUE_STAT_*`), as an OTLP bridge of
 *   COUNTERS_DB emits them (one metric per SAI field, `interface` attribute; upper or lower case);
 * - our scale-up credit counter (`fabricscope_scaleup_credit_stall_microseconds_total`).
 *
 * "counter" is decided by the name, not the OTLP kind: Cumulus exports running totals such as
 * if_out_octets as gauges. A field fed by several series (per TC, per priority) is their sum.
 * Each canonical field has one source per vocabulary, so a device exporting a total and its
 * per-TC parts (e.g. `performance_marked_packets` and `tc_tx_ecn_marked_tc`) is not double counted.
 */

export type CounterField =
  | 'tx_bytes'
  | 'ecn_marked_pkts'
  | 'pfc_tx_pause_frames'
  | 'pfc_rx_pause_frames'
  | 'pfc_rx_pause_us'
  | 'credit_stall_us'
  | 'link_errors';

export const COUNTER_FIELDS: readonly CounterField[] = [
  'tx_bytes',
  'ecn_marked_pkts',
  'pfc_tx_pause_frames',
  'pfc_rx_pause_frames',
  'pfc_rx_pause_us',
  'credit_stall_us',
  'link_errors',
];

export type MetricRole =
  | { role: 'counter'; field: CounterField }
  /** Current egress queue occupancy in bytes (gauge, summed over TCs). */
  | { role: 'queue' }
  /** Egress queue-depth histogram in bytes; see queue-histogram.ts. */
  | { role: 'queue_histogram' }
  | { role: 'oper_state' };

const counter = (field: CounterField): MetricRole => ({ role: 'counter', field });

const EXACT: ReadonlyMap<string, MetricRole> = new Map(Object.entries({
  // NVIDIA Cumulus
  nvswitch_interface_shared_buffer_port_tc_curr_occupancy: { role: 'queue' },
  nvswitch_histogram_interface_egress_buffer: { role: 'queue_histogram' },
  nvswitch_interface_tc_tx_ecn_marked_tc: counter('ecn_marked_pkts'),
  nvswitch_interface_sp_tx_pause: counter('pfc_tx_pause_frames'),
  nvswitch_interface_sp_rx_pause: counter('pfc_rx_pause_frames'),
  nvswitch_interface_sp_rx_pause_duration: counter('pfc_rx_pause_us'),
  nvswitch_interface_if_out_octets: counter('tx_bytes'),
  nvswitch_interface_dot3_stats_fcs_errors: counter('link_errors'),
  nvswitch_interface_dot3_stats_symbol_errors: counter('link_errors'),
  nvswitch_interface_oper_state: { role: 'oper_state' },
  // SONiC / SAI
  SAI_QUEUE_STAT_CURR_OCCUPANCY_BYTES: { role: 'queue' },
  SAI_QUEUE_STAT_WRED_ECN_MARKED_PACKETS: counter('ecn_marked_pkts'),
  SAI_PORT_STAT_IF_OUT_OCTETS: counter('tx_bytes'),
  SAI_PORT_STAT_IF_IN_ERRORS: counter('link_errors'),
  // fabricscope scale-up
  fabricscope_scaleup_credit_stall_microseconds_total: counter('credit_stall_us'),
}));

/** SAI PFC counters carry the priority in the name: `SAI_PORT_STAT_PFC_3_RX_PKTS`. */
const SAI_PFC = /^SAI_PORT_STAT_PFC_[0-7]_(RX_PKTS|TX_PKTS|RX_PAUSE_DURATION_US)$/;
const SAI_PFC_FIELD: Record<string, CounterField> = {
  RX_PKTS: 'pfc_rx_pause_frames',
  TX_PKTS: 'pfc_tx_pause_frames',
  RX_PAUSE_DURATION_US: 'pfc_rx_pause_us',
};

/** Names seen, known or not: the lookup is on the hot path, the regex is not. */
const cache = new Map<string, MetricRole | null>();
const CACHE_LIMIT = 10_000;

/** The role of a metric name, or undefined for names no canonical field uses. */
export function roleOf(metric: string): MetricRole | undefined {
  const hit = cache.get(metric);
  if (hit !== undefined) return hit ?? undefined;
  const role = lookup(metric);
  // Names come from senders: do not let a stream of made-up names grow the cache forever.
  if (cache.size < CACHE_LIMIT) cache.set(metric, role ?? null);
  return role;
}

function lookup(metric: string): MetricRole | undefined {
  const exact = EXACT.get(metric);
  if (exact) return exact;
  if (!/^sai_/i.test(metric)) return undefined;
  const upper = metric.toUpperCase();
  const sai = EXACT.get(upper);
  if (sai) return sai;
  const pfc = SAI_PFC.exec(upper);
  return pfc ? counter(SAI_PFC_FIELD[pfc[1]!]!) : undefined;
}
