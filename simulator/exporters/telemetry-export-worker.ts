/**
 * Worker-thread side of TelemetryExportThread (telemetry-export-thread.ts). Switch rounds become
 * per-switch OTLP ResourceMetrics, pushed (or, without a URL, only built and counted); completed
 * collectives become NCCL Inspector records, appended to the rank files (or only built and
 * counted). Hand-overs are handled one after another in the order they come: a switch's pushes
 * must not overtake each other (receivers take deltas of its cumulative counters), nor a rank's
 * lines. A round's arrays go back to the simulation thread with its result, to be filled again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { forEachCollective } from '../collective-samples.js';
import { forEachSwitchSnapshot, switchSnapshotsOf } from '../switch-samples.js';
import { NcclInspectorWriter } from './nccl-inspector-writer.js';
import { buildSwitchResourceMetrics, dataPointCount } from './otlp-switch-payload.js';
import type { ExportResult, TelemetryExportRequest, TelemetryExportResponse, TelemetryExportSetup } from './telemetry-export-thread.js';

const setup = workerData as TelemetryExportSetup;
// The OTLP/HTTP exporter libraries are loaded only when something is sent.
const otlp = setup.switches?.url ? new (await import('./otlp-switch-exporter.js')).OtlpSwitchExporter(setup.switches.url, setup.switches.resetMs) : undefined;
const nccl = setup.collectives?.dir ? new NcclInspectorWriter(setup.collectives.dir, setup.collectives.seed) : undefined;
/** Switches pushing at once, like a real fabric, but bounded. */
const PUSH_BATCH = 16;

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function exportSwitches(round: Extract<TelemetryExportRequest, { kind: 'switches' }>['round']): Promise<ExportResult> {
  const { layout, resetMs } = setup.switches!;
  const result: ExportResult = { items: 0, failures: 0 };
  if (!otlp) {
    forEachSwitchSnapshot(layout, round, (snap) => (result.items += dataPointCount(buildSwitchResourceMetrics(snap, resetMs))));
    return result;
  }
  const snaps = switchSnapshotsOf(layout, round);
  for (let i = 0; i < snaps.length; i += PUSH_BATCH) {
    const pushes = await Promise.allSettled(snaps.slice(i, i + PUSH_BATCH).map((s) => otlp.export(s)));
    for (const p of pushes) {
      if (p.status === 'fulfilled') result.items += p.value;
      else {
        result.failures++;
        result.error ??= messageOf(p.reason);
      }
    }
  }
  return result;
}

async function exportCollectives(request: Extract<TelemetryExportRequest, { kind: 'collectives' }>): Promise<ExportResult> {
  // One collective's records at a time: the writer keeps only their lines.
  forEachCollective(setup.collectives!.jobs, request.done, (records) => nccl?.add(records, request.dumpTimestampUs));
  const records = request.done.records;
  try {
    await nccl?.flush();
    return { items: records, failures: 0 };
  } catch (e) {
    return { items: 0, failures: records, error: messageOf(e) };
  }
}

/** A hand-over that failed as a whole (a bug, not a refused push): every item counts as failed. */
async function guarded(work: () => Promise<ExportResult>): Promise<ExportResult> {
  try {
    return await work();
  } catch (e) {
    return { items: 0, failures: 1, error: messageOf(e) };
  }
}

async function handle(request: TelemetryExportRequest): Promise<void> {
  const port = parentPort!;
  switch (request.kind) {
    case 'switches': {
      const result = await guarded(() => exportSwitches(request.round));
      const { counters, histograms } = request.round;
      port.postMessage({ kind: 'switches', seq: request.seq, result, counters, histograms } satisfies TelemetryExportResponse, [
        counters.buffer as ArrayBuffer,
        histograms.buffer as ArrayBuffer,
      ]);
      break;
    }
    case 'collectives':
      port.postMessage({ kind: 'collectives', seq: request.seq, result: await guarded(() => exportCollectives(request)) } satisfies TelemetryExportResponse);
      break;
    case 'close':
      await otlp?.shutdown();
      await nccl?.flush().catch(() => undefined);
      port.postMessage({ kind: 'closed' } satisfies TelemetryExportResponse);
      port.close();
      break;
  }
}

let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (request: TelemetryExportRequest) => {
  queue = queue.then(() => handle(request));
});
