/**
 * Sends switch telemetry (otlp-switch-payload.ts) with the OpenTelemetry JS OTLP/HTTP (JSON)
 * exporter, exactly what an SDK-instrumented device would put on the wire. A module of its own:
 * the exporter libraries are loaded only where something is sent.
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import type { SwitchSnapshot } from '../outputs.js';
import { buildSwitchResourceMetrics, dataPointCount } from './otlp-switch-payload.js';

/** One OTLP/HTTP exporter per switch, as each switch pushes its own telemetry. */
export class OtlpSwitchExporter {
  private readonly exporters = new Map<string, OTLPMetricExporter>();

  constructor(
    private readonly baseUrl: string,
    private readonly resetMs: number,
  ) {}

  private exporterFor(device: string): OTLPMetricExporter {
    let e = this.exporters.get(device);
    if (!e) {
      e = new OTLPMetricExporter({ url: `${this.baseUrl.replace(/\/$/, '')}/v1/metrics`, timeoutMillis: 10_000 });
      this.exporters.set(device, e);
    }
    return e;
  }

  /** Sends one switch's sample; resolves with its data points once the receiver answered, rejects on failure. */
  export(snap: SwitchSnapshot): Promise<number> {
    const rm = buildSwitchResourceMetrics(snap, this.resetMs);
    return new Promise((resolve, reject) => {
      this.exporterFor(snap.device).export(rm, (result) => {
        if (result.code === 0) resolve(dataPointCount(rm));
        else reject(result.error ?? new Error(`OTLP export of ${snap.device} failed`));
      });
    });
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.exporters.values()].map((e) => e.shutdown().catch(() => undefined)));
    this.exporters.clear();
  }
}
