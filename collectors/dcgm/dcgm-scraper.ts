/**
 * Scrapes dcgm-exporter `/metrics` endpoints and publishes GpuSamples (a PrometheusScraper
 * of the `gpu_samples` kind).
 *
 * Real exporters do not timestamp their lines, so a sample's time is then the moment the
 * scrape was sent; the emulator timestamps each line with event time, which wins. A GPU's
 * host is its exporter's `Hostname`/`hostname` label, else the target's (file_sd) `Hostname`,
 * `hostname` or `node` label, else the target's host name.
 */
import { PrometheusScraper, type PrometheusScraperOptions, type ScrapeKind } from '../prometheus-scraper.js';
import { toGpuSamples } from './gpu-samples.js';

export { normaliseTarget, type ScrapeReport, type ScraperStats as DcgmScraperStats, type TargetReport, type TargetWithLabels } from '../prometheus-scraper.js';

export type DcgmScraperOptions = PrometheusScraperOptions;

export const DCGM_SCRAPE: ScrapeKind<'gpu_samples'> = {
  source: 'dcgm',
  format: 'prometheus_text',
  topic: 'gpu_samples',
  convert(samples, scrapeMs, { url, labels }) {
    const gpus = toGpuSamples(samples, scrapeMs, labels.Hostname || labels.hostname || labels.node || new URL(url).hostname);
    return { records: gpus.samples, rejected: 0 };
  },
};

export class DcgmScraper extends PrometheusScraper<'gpu_samples'> {
  constructor(options: DcgmScraperOptions) {
    super(DCGM_SCRAPE, options);
  }
}
