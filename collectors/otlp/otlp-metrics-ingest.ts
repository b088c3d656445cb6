/**
 * What every OTLP metrics transport does with a decoded ExportMetricsServiceRequest:
 * normalise it into PortSamples, publish them, and only then keep
 * the payload's counter state (so a sender retrying after backpressure is not short-changed).
 * One instance is shared by the HTTP and gRPC receivers: a switch may export over either,
 * and its counters must have one history.
 */
import type { Bus } from '../../core/bus.js';
import type { Logger } from '../../core/log.js';
import { emptyCounters, type CollectorCounters } from '../collector-stats.js';
import type { CollectorTelemetry } from '../collector-telemetry.js';
import type { FlattenedMetrics } from './otlp-points.js';
import { PortSampleNormaliser } from './port-samples.js';

/** The wire form a payload came in, for counters and self-telemetry. */
export type OtlpFormat = 'json' | 'protobuf' | 'grpc';

export interface OtlpMetricsStats extends CollectorCounters {
  requests: number;
  failed_requests: number;
  /** Data points of kinds no canonical record uses, or with no recorded value. */
  skipped_points: number;
  /** Port samples not newer than what was already seen (resends). */
  stale_samples: number;
}

export interface PartialSuccess {
  rejectedDataPoints: number;
  errorMessage: string;
}

export class OtlpMetricsIngest {
  readonly counters: OtlpMetricsStats = { ...emptyCounters(), requests: 0, failed_requests: 0, skipped_points: 0, stale_samples: 0 };
  readonly normaliser: PortSampleNormaliser;

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    options: { normaliser?: PortSampleNormaliser; telemetry?: CollectorTelemetry } = {},
  ) {
    this.normaliser = options.normaliser ?? new PortSampleNormaliser();
    this.telemetry = options.telemetry;
  }

  private readonly telemetry?: CollectorTelemetry;

  /**
   * Ingests one decoded request (flattenOtlpMetrics for JSON, readMetricsRequest for
   * protobuf). Throws BackpressureError when the bus is full; resolves with the partial
   * success to report, if any data points were refused.
   */
  async ingest(flat: FlattenedMetrics, format: OtlpFormat): Promise<PartialSuccess | undefined> {
    const c = this.counters;
    const received = flat.points.length + flat.histograms.length + flat.skipped;
    const result = this.normaliser.normalise(flat.points, flat.histograms);
    c.received += received;
    c.skipped_points += flat.skipped;
    c.stale_samples += result.stale;
    this.telemetry?.received('otlp', format, received);
    try {
      await this.bus.publish('port_samples', result.samples);
    } catch (e) {
      c.dropped += result.samples.length;
      this.telemetry?.dropped('otlp', format, result.samples.length);
      result.abort();
      throw e;
    }
    result.commit();
    c.published += result.samples.length;
    c.rejected += result.rejected;
    this.telemetry?.published('otlp', format, result.samples.length);
    if (result.rejected > 0) {
      this.telemetry?.rejected('otlp', format, result.rejected);
      this.log.warn('OTLP data points rejected', { format, rejected: result.rejected, reasons: result.reasons });
      return { rejectedDataPoints: result.rejected, errorMessage: result.reasons.join('; ') };
    }
    return undefined;
  }

  /** Counts a request refused as a whole (malformed, too large, backpressure). */
  failed(format: OtlpFormat, malformed: boolean): void {
    this.counters.failed_requests++;
    if (malformed) this.telemetry?.rejected('otlp', format, 1);
  }

  /**
   * Publishes port samples held back waiting for the rest of their (port, timestamp): those
   * held at least `olderThanMs`, or all of them (shutdown).
   */
  async flush(olderThanMs = 0): Promise<void> {
    const held = this.normaliser.takeHeld(olderThanMs);
    if (held.samples.length === 0) return;
    try {
      await this.bus.publish('port_samples', held.samples);
      this.counters.published += held.samples.length;
      this.telemetry?.published('otlp', 'held', held.samples.length);
    } catch (e) {
      held.restore();
      this.telemetry?.dropped('otlp', 'held', held.samples.length);
      throw e;
    }
  }
}
