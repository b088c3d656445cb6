/**
 * The collectors' own telemetry, recorded with the OpenTelemetry metrics SDK (so it can also
 * be exported over OTLP by anyone holding the MeterProvider) and rendered on demand as
 * Prometheus text for the platform's `/metrics`:
 *
 *   fabricscope_collector_received_total{source,format}    items that arrived (points, samples, lines)
 *   fabricscope_collector_rejected_total{source,format}    items or whole requests refused as malformed
 *   fabricscope_collector_published_total{source,format}   canonical records accepted by the bus
 *   fabricscope_collector_dropped_total{source,format}     records the bus refused (sender asked to retry)
 *   fabricscope_collector_scrape_duration_seconds{source}  dcgm-exporter scrape durations (histogram)
 *   fabricscope_collector_bus_lag_records{group}           records waiting on the bus, per topic/group
 *
 * Label values come from fixed sets (source, format, topic/group), never from senders.
 */
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import {
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';

export type CollectorSource = 'otlp' | 'dcgm' | 'nccl';

/** A reader that only collects when asked (a Prometheus scrape of /metrics). */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const SCRAPE_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class CollectorTelemetry {
  /** Our own provider, not the global one: the platform may install its own. */
  readonly provider: MeterProvider;
  private readonly reader = new PullReader();
  private readonly receivedCounter: Counter;
  private readonly rejectedCounter: Counter;
  private readonly publishedCounter: Counter;
  private readonly droppedCounter: Counter;
  private readonly scrapeHistogram: Histogram;
  private lag: () => Record<string, number> = () => ({});

  constructor() {
    this.provider = new MeterProvider({
      readers: [this.reader],
      views: [
        {
          instrumentName: 'fabricscope_collector_scrape_duration_seconds',
          aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: SCRAPE_BUCKETS_S } },
        },
      ],
    });
    const meter = this.provider.getMeter('fabricscope.collectors');
    this.receivedCounter = meter.createCounter('fabricscope_collector_received_total', {
      description: 'Items that arrived at a collector: OTLP data points, Prometheus samples, NCCL lines.',
    });
    this.rejectedCounter = meter.createCounter('fabricscope_collector_rejected_total', {
      description: 'Items or whole requests refused as malformed or unattributable.',
    });
    this.publishedCounter = meter.createCounter('fabricscope_collector_published_total', {
      description: 'Canonical records a collector published on the bus.',
    });
    this.droppedCounter = meter.createCounter('fabricscope_collector_dropped_total', {
      description: 'Canonical records the bus refused (backpressure); the sender is asked to retry.',
    });
    this.scrapeHistogram = meter.createHistogram('fabricscope_collector_scrape_duration_seconds', {
      description: 'Duration of dcgm-exporter scrapes, successful or not.',
      unit: 's',
    });
    meter
      .createObservableGauge('fabricscope_collector_bus_lag_records', {
        description: 'Records published on the bus and not yet handled, per topic/group.',
      })
      .addCallback((o) => {
        for (const [group, n] of Object.entries(this.lag())) o.observe(n, { group });
      });
  }

  received(source: CollectorSource, format: string, n: number): void {
    if (n > 0) this.receivedCounter.add(n, { source, format });
  }

  rejected(source: CollectorSource, format: string, n: number): void {
    if (n > 0) this.rejectedCounter.add(n, { source, format });
  }

  published(source: CollectorSource, format: string, n: number): void {
    if (n > 0) this.publishedCounter.add(n, { source, format });
  }

  dropped(source: CollectorSource, format: string, n: number): void {
    if (n > 0) this.droppedCounter.add(n, { source, format });
  }

  scrapeDuration(source: CollectorSource, seconds: number): void {
    this.scrapeHistogram.record(seconds, { source });
  }

  /** Where bus lag comes from (the bus's own stats). */
  observeBusLag(lag: () => Record<string, number>): void {
    this.lag = lag;
  }

  /** Prometheus text exposition format 0.0.4, every family with HELP and TYPE. */
  async renderPrometheus(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    const families: string[] = [];
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) families.push(renderFamily(metric));
    }
    return families.join('');
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

function renderFamily(m: MetricData): string {
  const name = m.descriptor.name;
  const help = `# HELP ${name} ${escapeHelp(m.descriptor.description)}\n`;
  if (m.dataPointType === DataPointType.HISTOGRAM) {
    let out = `${help}# TYPE ${name} histogram\n`;
    for (const dp of m.dataPoints) {
      const { buckets, sum, count } = dp.value;
      let cumulative = 0;
      buckets.boundaries.forEach((bound, i) => {
        cumulative += buckets.counts[i] ?? 0;
        out += `${name}_bucket${labels(dp.attributes, ['le', formatNumber(bound)])} ${cumulative}\n`;
      });
      out += `${name}_bucket${labels(dp.attributes, ['le', '+Inf'])} ${count}\n`;
      out += `${name}_sum${labels(dp.attributes)} ${formatNumber(sum ?? 0)}\n`;
      out += `${name}_count${labels(dp.attributes)} ${count}\n`;
    }
    return out;
  }
  if (m.dataPointType === DataPointType.EXPONENTIAL_HISTOGRAM) return '';
  const type = m.dataPointType === DataPointType.SUM && m.isMonotonic ? 'counter' : 'gauge';
  let out = `${help}# TYPE ${name} ${type}\n`;
  for (const dp of m.dataPoints) out += `${name}${labels(dp.attributes)} ${formatNumber(dp.value)}\n`;
  return out;
}

function labels(attributes: Attributes, extra?: [string, string]): string {
  const parts = Object.entries(attributes).map(([k, v]) => `${sanitiseLabel(k)}="${escapeLabel(String(v))}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

const sanitiseLabel = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_').replace(/^([0-9])/, '_$1');
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
