/**
 * OTLP/JSON payloads shaped as a Cumulus switch (and our emulator) sends them: resource
 * `host.name`, data point attributes `interface` and `tc`, 64-bit integers as strings.
 */
export interface PortCounters {
  queue: number;
  watermark?: number;
  ecn: number;
  txPause: number;
  rxPause: number;
  rxPauseUs: number;
  outOctets: number;
  fcs: number;
  operState: number;
  creditStallUs?: number;
}

const ms = (t: number) => `${BigInt(t) * 1_000_000n}`;
const attrs = (iface: string, tc = '3') => [
  { key: 'interface', value: { stringValue: iface } },
  { key: 'tc', value: { stringValue: tc } },
];

export function switchPayload(host: string, tMs: number, ports: Record<string, PortCounters>, startMs = 1_700_000_000_000): unknown {
  const entries = Object.entries(ports);
  const gauge = (name: string, pick: (c: PortCounters) => number | undefined) => ({
    name,
    gauge: {
      dataPoints: entries
        .filter(([, c]) => pick(c) !== undefined)
        .map(([p, c]) => ({ attributes: attrs(p), timeUnixNano: ms(tMs), asDouble: pick(c) })),
    },
  });
  const sum = (name: string, pick: (c: PortCounters) => number | undefined) => ({
    name,
    sum: {
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: entries
        .filter(([, c]) => pick(c) !== undefined)
        .map(([p, c]) => ({ attributes: attrs(p), startTimeUnixNano: ms(startMs), timeUnixNano: ms(tMs), asInt: String(pick(c)) })),
    },
  });
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'host.name', value: { stringValue: host } }] },
        scopeMetrics: [
          {
            scope: { name: 'fabricscope-emulator', version: '0.1.0' },
            metrics: [
              gauge('nvswitch_interface_shared_buffer_port_tc_curr_occupancy', (c) => c.queue),
              gauge('nvswitch_interface_shared_buffer_port_tc_watermark', (c) => c.watermark ?? c.queue),
              sum('nvswitch_interface_tc_tx_ecn_marked_tc', (c) => c.ecn),
              sum('nvswitch_interface_sp_tx_pause', (c) => c.txPause),
              sum('nvswitch_interface_sp_rx_pause', (c) => c.rxPause),
              sum('nvswitch_interface_sp_rx_pause_duration', (c) => c.rxPauseUs),
              gauge('nvswitch_interface_if_out_octets', (c) => c.outOctets),
              gauge('nvswitch_interface_dot3_stats_fcs_errors', (c) => c.fcs),
              gauge('nvswitch_interface_oper_state', (c) => c.operState),
              sum('fabricscope_scaleup_credit_stall_microseconds_total', (c) => c.creditStallUs),
            ],
          },
        ],
      },
    ],
  };
}

export const zeroPort = (over: Partial<PortCounters> = {}): PortCounters => ({
  queue: 0,
  ecn: 0,
  txPause: 0,
  rxPause: 0,
  rxPauseUs: 0,
  outOctets: 0,
  fcs: 0,
  operState: 1,
  ...over,
});
