/**
 * Worker-thread side of SwitchExportThread (switch-export-thread.ts): turns each round of switch
 * counters into per-switch OTLP ResourceMetrics and pushes them (or, without a URL, only builds
 * and counts them), so the simulation thread never spends time encoding telemetry. Rounds are
 * handled one after another in the order they come: a switch's pushes must not overtake each
 * other (receivers take deltas of its cumulative counters). Each round's arrays go back to the
 * simulation thread with the result, to be filled again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { switchSnapshotsOf } from '../switch-samples.js';
import { OtlpSwitchExporter, buildSwitchResourceMetrics, dataPointCount } from './otlp-switch-exporter.js';
import type { SwitchExportRequest, SwitchExportResponse, SwitchExportSetup } from './switch-export-thread.js';

const setup = workerData as SwitchExportSetup;
const exporter = setup.url ? new OtlpSwitchExporter(setup.url, setup.resetMs) : undefined;
/** Switches pushing at once, like a real fabric, but bounded. */
const PUSH_BATCH = 16;
let queue: Promise<void> = Promise.resolve();

async function exportRound(request: Extract<SwitchExportRequest, { kind: 'round' }>): Promise<Extract<SwitchExportResponse, { kind: 'round' }>> {
  const snaps = switchSnapshotsOf(setup.layout, request.round);
  let points = 0;
  let failures = 0;
  let error: string | undefined;
  if (!exporter) {
    for (const snap of snaps) points += dataPointCount(buildSwitchResourceMetrics(snap, setup.resetMs));
  } else {
    for (let i = 0; i < snaps.length; i += PUSH_BATCH) {
      const results = await Promise.allSettled(snaps.slice(i, i + PUSH_BATCH).map((s) => exporter.export(s)));
      for (const r of results) {
        if (r.status === 'fulfilled') points += r.value;
        else {
          failures++;
          error ??= r.reason instanceof Error ? r.reason.message : String(r.reason);
        }
      }
    }
  }
  return { kind: 'round', seq: request.seq, points, failures, error, counters: request.round.counters, histograms: request.round.histograms };
}

parentPort!.on('message', (request: SwitchExportRequest) => {
  if (request.kind === 'close') {
    queue = queue.then(async () => {
      await exporter?.shutdown();
      parentPort!.postMessage({ kind: 'closed' } satisfies SwitchExportResponse);
      parentPort!.close();
    });
    return;
  }
  queue = queue.then(async () => {
    const response = await exportRound(request);
    parentPort!.postMessage(response, [response.counters.buffer as ArrayBuffer, response.histograms.buffer as ArrayBuffer]);
  });
});
