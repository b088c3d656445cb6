/**
 * Scrapes NCCL Inspector Prometheus-mode metrics (node-exporter's textfile collector, or any
 * endpoint serving the Inspector's file) and publishes CollectiveEvents: a PrometheusScraper
 * of the `collective_events` kind. See inspector-prometheus.ts for how summaries become events.
 */
import type { Logger } from '../../core/log.js';
import { createLogger } from '../../core/log.js';
import { PrometheusScraper, type PrometheusScraperOptions, type ScrapeKind } from '../prometheus-scraper.js';
import { InspectorPromConverter } from './inspector-prometheus.js';

export interface NcclPromScraperOptions extends PrometheusScraperOptions {
  /** The scrape interval: the samples of one window are one summarised call; default 30000 ms (the Inspector's shortest dump interval). */
  windowMs?: number;
}

function ncclInspectorScrape(windowMs: number, log: Logger): ScrapeKind<'collective_events'> {
  const converter = new InspectorPromConverter(windowMs);
  return {
    source: 'nccl',
    format: 'inspector_prometheus',
    topic: 'collective_events',
    convert(samples, scrapeMs, { url }) {
      const r = converter.convert(samples, scrapeMs);
      if (r.rejected > 0) log.warn('NCCL Inspector series rejected', { url, rejected: r.rejected, reasons: r.reasons });
      return { records: r.events, rejected: r.rejected };
    },
  };
}

export class NcclPromScraper extends PrometheusScraper<'collective_events'> {
  constructor(options: NcclPromScraperOptions) {
    const log = options.logger ?? createLogger('info', 'collectors.nccl');
    super(ncclInspectorScrape(options.windowMs ?? 30_000, log), { ...options, logger: log });
  }
}
