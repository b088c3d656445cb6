/**
 * The JSON summary `fabricscope run` prints: what was ingested per kind, the stalls and their
 * root causes, and how fast it went. Figures come from the store (what was really kept),
 * not from what the emulator meant to send.
 */
import type { PlaySummary } from '../simulator/player.js';
import type { Platform } from './platform.js';

/** Stalls read back to group root causes; a summary, not an export. */
const ROOT_CAUSE_SAMPLE = 1000;

/**
 * @param wallS wall seconds from the end of start-up to everything stored
 * @param cpu the process's CPU over the same span (start-up excluded: it does not grow with the data)
 */
export async function buildRunSummary(platform: Platform, play: PlaySummary, wallS: number, cpu: NodeJS.CpuUsage) {
  const { store, collectors, pipeline } = platform.parts;
  const records = await store.counts();
  const stalls = await store.listStalls({ limit: ROOT_CAUSE_SAMPLE });
  const causes = new Map<string, { kind: string; location: string; stalls: number }>();
  for (const s of stalls) {
    const key = `${s.root_cause.kind}@${s.root_cause.location}`;
    const entry = causes.get(key) ?? { kind: s.root_cause.kind, location: s.root_cause.location, stalls: 0 };
    entry.stalls++;
    causes.set(key, entry);
  }
  const telemetry = records.port_samples + records.gpu_samples + records.collective_events;
  return {
    scenario: play.scenario,
    data: platform.config.data,
    simulated_s: play.simulated_s,
    wall_s: round(wallS),
    records,
    stalls: records.stalls,
    root_causes: [...causes.values()].sort((a, b) => b.stalls - a.stalls),
    throughput: {
      telemetry_records_per_s: Math.round(telemetry / wallS),
      speedup_vs_real_time: round(play.simulated_s / wallS),
      cpu_s: round((cpu.user + cpu.system) / 1e6),
    },
    rejected: {
      otlp: collectors?.stats().otlp?.rejected ?? 0,
      dcgm: collectors?.stats().dcgm?.rejected ?? 0,
      nccl: collectors?.stats().nccl.rejected ?? 0,
      late_records: pipeline ? Object.values(pipeline.stats().late).reduce((a, b) => a + b, 0) : 0,
      /** Late records per kind: stored, but arrived after the analysis had passed their time. */
      late_by_kind: pipeline?.stats().late ?? {},
    },
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
