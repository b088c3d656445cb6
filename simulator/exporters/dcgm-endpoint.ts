/**
 * One dcgm-exporter per node: `GET /metrics` in the exact Prometheus text that dcgm-exporter
 * renders (telemetry-formats.md §1.2/§1.3), label order included. Each sample line carries the
 * event-time timestamp (ms) so full-speed replays keep event time; real dcgm-exporter omits it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeName } from '../../core/names.js';
import { GPU_MODEL_NAME } from '../gpu-model.js';
import type { GpuSnapshot } from '../outputs.js';

export const DRIVER_VERSION = '550.54.15';

interface FieldDef {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  value: (g: GpuSnapshot) => number;
  /** Doubles are printed like Go's %f (six decimals). */
  double?: boolean;
}

const FIELDS: FieldDef[] = [
  { name: 'DCGM_FI_DEV_SM_CLOCK', type: 'gauge', help: 'SM clock frequency (in MHz).', value: (g) => g.sm_clock_mhz },
  { name: 'DCGM_FI_DEV_MEM_CLOCK', type: 'gauge', help: 'Memory clock frequency (in MHz).', value: (g) => g.mem_clock_mhz },
  { name: 'DCGM_FI_DEV_GPU_TEMP', type: 'gauge', help: 'GPU temperature (in C).', value: (g) => g.temp_c },
  { name: 'DCGM_FI_DEV_POWER_USAGE', type: 'gauge', help: 'Power draw (in W).', value: (g) => g.power_w, double: true },
  { name: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', type: 'counter', help: 'Total energy consumption since boot (in mJ).', value: (g) => g.energy_mj },
  { name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', help: 'GPU utilization (in %).', value: (g) => g.util_pct },
  { name: 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', type: 'gauge', help: 'Current clock event reasons (bitmask).', value: (g) => g.clock_event_reasons },
  { name: 'DCGM_FI_DEV_XID_ERRORS', type: 'gauge', help: 'Value of the last XID error encountered.', value: (g) => g.xid },
  { name: 'DCGM_FI_PROF_NVLINK_TX_BYTES', type: 'gauge', help: 'The rate of data transmitted over NVLink, not including protocol headers, in bytes per second.', value: (g) => g.nvlink_tx_bps },
  { name: 'DCGM_FI_PROF_NVLINK_RX_BYTES', type: 'gauge', help: 'The rate of data received over NVLink, not including protocol headers, in bytes per second.', value: (g) => g.nvlink_rx_bps },
];

/** Renders one node's GPUs at one sample time in dcgm-exporter text format. */
export function renderDcgmMetrics(node: number, gpus: readonly GpuSnapshot[], tsMs: number): string {
  const host = nodeName(node);
  const ts = Math.round(tsMs);
  const lines: string[] = [];
  for (const f of FIELDS) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const g of gpus) {
      const labels = `gpu="${g.index}",UUID="${g.uuid}",pci_bus_id="${g.pci_bus_id}",device="nvidia${g.index}",modelName="${GPU_MODEL_NAME}",Hostname="${host}",DCGM_FI_DRIVER_VERSION="${DRIVER_VERSION}"`;
      const v = f.value(g);
      lines.push(`${f.name}{${labels}} ${f.double ? v.toFixed(6) : String(Math.round(v))} ${ts}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The HTTP server of one node; the player updates its sample at each GPU interval. */
export class DcgmEndpoint {
  private server?: Server;
  private body = '';
  readonly node: number;

  constructor(node: number) {
    this.node = node;
  }

  update(gpus: readonly GpuSnapshot[], tsMs: number): void {
    this.body = renderDcgmMetrics(this.node, gpus, tsMs);
  }

  /** Listens on 127.0.0.1 (port 0 = any free port) and returns the scrape URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.body);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404 page not found\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    return `http://${host}:${addr.port}/metrics`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
