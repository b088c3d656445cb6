/**
 * Ground truth next to the data: every injected fault occurrence (never sent as telemetry) and
 * the topology it happened in, so evaluations can score root causes against what really happened.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroundTruthFault } from '../core/records.js';
import type { TopologySpec } from '../core/topology.js';

export async function writeTopology(outDir: string, spec: TopologySpec): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeAtomically(join(outDir, 'topology.json'), JSON.stringify(spec, null, 2) + '\n');
}

export async function writeGroundTruth(outDir: string, faults: readonly GroundTruthFault[]): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeAtomically(join(outDir, 'ground-truth.json'), JSON.stringify(faults, null, 2) + '\n');
}

/** Readers never see a half-written file: write aside, then rename. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
