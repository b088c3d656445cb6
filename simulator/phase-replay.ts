/**
 * Replays collective phases the fabric has already carried.
 *
 * A training job repeats the same collective every iteration: the same flows, on the same ECMP
 * paths, at the same rates. When a phase starts on ports that are idle (no other flow, queue,
 * PAUSE or storm on the ports its flows cross or the NICs they leave from) and their conditions
 * (capacities, oper state, credits) are those of a phase recorded before, the fabric would carry
 * it as it did then, shifted in time. So the first such phase is carried and recorded, and later
 * ones replay the recording: they end after the recorded duration and add the recorded counters
 * to their ports, at a fraction of the cost.
 *
 * What a replay reproduces, and how closely:
 * - the recorded phase's duration and the counters at its end (bytes, ECN marks, PFC frames and
 *   pause time, credit stalls, replays, histogram time), up to float rounding. Where congestion
 *   control acts, identical phases the fabric carries differ a little (its updates keep to a
 *   fabric-wide 50 µs grid, which meets each phase at another offset: a congested 8-node ring's
 *   duration spreads by ~2 %); a replay repeats the recorded one (test/simulator/phase-replay.test.ts);
 * - a telemetry sample taken during a replay: counters and queue depth interpolated between
 *   checkpoints recorded every 50 µs (coarser for long phases, see MAX_CHECKPOINTS);
 *   watermarks are the recorded peak of each checkpoint stretch that ended before the sample,
 *   and the stretch around the sample counts towards the next one.
 *
 * A phase is only recorded and replayed for a job whose ports and NICs no other job can use (the
 * footprints are checked once) and never across a fault edge (the replay must end before the next
 * one; a recording stops at one). Recordings measure their own stretch peaks and carry the
 * histogram time a snapshot restarts, so telemetry may be read while one runs. Two jobs can still share a switch's buffer: a replayed phase's queues
 * do not lower another job's dynamic PFC thresholds on that switch (documented simplification).
 */
import type { JobRun, PhaseFlow } from './collective-engine.js';
import { FluidFabric } from './fluid-fabric.js';

/** Checkpoint spacing while recording (µs): the resolution of samples taken during a replay. */
const CHECKPOINT_US = 50;
/** A recording keeps at most this many checkpoints, doubling their spacing when it would exceed it. */
const MAX_CHECKPOINTS = 256;
/** Recordings stop being made once they hold this much (a scenario whose phases never repeat). */
const MAX_RECORDED_BYTES = 256 * 1024 * 1024;

/** What a phase needs from the fabric and how to recognise it, for one fault epoch. */
interface PhasePlan {
  epoch: number;
  /** Ports its flows cross, and the leaf ports facing its sending NICs (PAUSE towards a NIC counts there). */
  ports: Int32Array;
  nics: Int32Array;
  /** Everything its course depends on: its flows and its ports' conditions. */
  descriptor: Float64Array;
  hash: number;
  /** The recording it matches, once one exists. */
  recording: PhaseRecording | undefined;
}

interface PhaseRecording {
  descriptor: Float64Array;
  durationUs: number;
  /** Ports the phase may change (the plan's). */
  ports: Int32Array;
  /** Offsets of the checkpoints (µs since the start), ascending, below durationUs. */
  times: number[];
  /** Activity added since the start at each checkpoint, port-major (ports × activity width). */
  rows: Float32Array[];
  /** Peak queue of each port within each checkpoint stretch, then within the last one (to the end). */
  peaks: Float32Array[];
  /** Peak queue of each port over the whole phase. */
  peak: Float32Array;
  /** Activity added by the whole phase, exactly. */
  final: Float64Array;
  /** What a replay shown all at once adds, built when first needed (finalEntries). */
  finalEntries?: FinalEntries;
}

/**
 * The non-zero entries of a recording's final activity (port position × width + field, port
 * by port) and the positions of the ports that queued: most of a port's fields stay zero, and
 * most ports never queue.
 */
interface FinalEntries {
  at: Int32Array;
  values: Float64Array;
  queued: Int32Array;
}

function finalEntries(rec: PhaseRecording): FinalEntries {
  if (rec.finalEntries) return rec.finalEntries;
  const at: number[] = [];
  for (let k = 0; k < rec.final.length; k++) if (rec.final[k] !== 0) at.push(k);
  const queued: number[] = [];
  for (let i = 0; i < rec.peak.length; i++) if (rec.peak[i]! > 0) queued.push(i);
  rec.finalEntries = { at: Int32Array.from(at), values: Float64Array.from(at, (k) => rec.final[k]!), queued: Int32Array.from(queued) };
  return rec.finalEntries;
}

export interface PhaseReplayStats {
  /** Phases replayed from a recording. */
  replayed: number;
  /** Recordings completed. */
  recorded: number;
  /** Recordings given up (a fault edge during the phase). */
  abandoned: number;
  /** Memory the recordings hold (bytes). */
  recordedBytes: number;
  /** Phases the fabric carried because their ports were busy or no recording could be used. */
  carried: number;
}

export class PhaseReplayer {
  private readonly recordings = new Map<number, PhaseRecording[]>();
  private readonly recorders = new Map<JobRun, Recorder>();
  private replays: Replay[] = [];
  private readonly width: number;
  readonly stats: PhaseReplayStats = { replayed: 0, recorded: 0, abandoned: 0, recordedBytes: 0, carried: 0 };

  /**
   * With `replay` false every phase is carried by the fabric (for comparison); phases still
   * start on settled ports, so both ways see the same fabric.
   */
  constructor(
    private readonly fabric: FluidFabric,
    private readonly replay = true,
  ) {
    this.width = fabric.activityWidth;
  }

  /**
   * A job starts a phase at `nowUs`: returns when its replay ends, or undefined when the fabric
   * must carry it (then it may be recorded). `faultEdgeUs` is the next fault edge: a replay must
   * end before it. The same `flows` array within one `faultEpoch` is the same phase.
   */
  start(job: JobRun, flows: readonly PhaseFlow[], nowUs: number, faultEdgeUs: number, faultEpoch: number): number | undefined {
    const plan = this.planOf(flows, faultEpoch);
    if (!this.fabric.settleIfIdle(plan.ports, plan.nics) || !this.replay) {
      this.stats.carried++;
      return undefined;
    }
    plan.recording ??= this.recordings.get(plan.hash)?.find((r) => sameValues(r.descriptor, plan.descriptor));
    const recording = plan.recording;
    if (recording) {
      if (nowUs + recording.durationUs < faultEdgeUs) {
        this.replays.push(new Replay(recording, nowUs, this.width));
        this.stats.replayed++;
        return nowUs + recording.durationUs;
      }
    } else if (!this.recorders.has(job) && this.stats.recordedBytes < MAX_RECORDED_BYTES) {
      this.recorders.set(job, new Recorder(this.fabric, plan.ports, plan.descriptor, plan.hash, nowUs, this.width));
    }
    this.stats.carried++;
    return undefined;
  }

  private readonly plans = new WeakMap<readonly PhaseFlow[], PhasePlan>();

  private planOf(flows: readonly PhaseFlow[], epoch: number): PhasePlan {
    let plan = this.plans.get(flows);
    if (plan?.epoch === epoch) return plan;
    const ports = new Set<number>();
    const nics = new Set<number>();
    for (const f of flows) {
      for (const p of f.path) ports.add(p);
      if (f.srcNic < 0) continue;
      nics.add(f.srcNic);
      ports.add(this.fabric.nicDownlink(f.srcNic));
    }
    const portList = Int32Array.from([...ports].sort((a, b) => a - b));
    const descriptor = this.describe(flows, portList);
    plan = { epoch, ports: portList, nics: Int32Array.from(nics), descriptor, hash: hashOf(descriptor), recording: undefined };
    this.plans.set(flows, plan);
    return plan;
  }

  /** The next time a recording wants a checkpoint (the engine stops there). */
  nextStopUs(): number {
    let next = Infinity;
    for (const r of this.recorders.values()) if (r.nextStopUs < next) next = r.nextStopUs;
    return next;
  }

  /** Time reached `nowUs`: takes due checkpoints and ends replays due. */
  advance(nowUs: number): void {
    for (const r of this.recorders.values()) if (r.nextStopUs <= nowUs) r.checkpoint(nowUs);
    if (this.replays.length === 0) return;
    let kept = 0;
    for (const replay of this.replays) {
      if (replay.endUs <= nowUs) replay.showProgress(this.fabric, nowUs);
      else this.replays[kept++] = replay;
    }
    this.replays.length = kept;
  }

  /** The fabric carried the last flow of `job`'s phase: a recording of it is complete. */
  phaseDone(job: JobRun, nowUs: number): void {
    const recorder = this.recorders.get(job);
    if (!recorder) return;
    this.recorders.delete(job);
    const recording = recorder.finish(nowUs);
    if (!recording) return;
    const list = this.recordings.get(recorder.hash) ?? [];
    list.push(recording);
    this.recordings.set(recorder.hash, list);
    this.stats.recorded++;
    this.stats.recordedBytes += recording.final.byteLength + recording.rows.reduce((sum, r) => sum + r.byteLength, 0);
  }

  /**
   * Telemetry is read next: replays in progress show their progress up to now, recordings keep
   * what a snapshot would restart.
   */
  beforeTelemetryRead(nowUs: number): void {
    for (const r of this.recorders.values()) r.beforeTelemetryRead();
    for (const replay of this.replays) replay.showProgress(this.fabric, nowUs);
  }

  /** Faults change the fabric under the recordings in progress: they are given up. */
  faultEdge(): void {
    this.stats.abandoned += this.recorders.size;
    this.recorders.clear();
  }

  private describe(flows: readonly PhaseFlow[], ports: Int32Array): Float64Array {
    let length = ports.length * FluidFabric.CONDITION_WIDTH;
    for (const f of flows) length += 6 + f.path.length;
    const out = new Float64Array(length);
    let at = 0;
    for (const f of flows) {
      out[at++] = f.path.length;
      for (let h = 0; h < f.path.length; h++) out[at++] = f.path[h]!;
      out[at++] = f.srcNic;
      out[at++] = f.bytes;
      out[at++] = f.rate;
      out[at++] = f.group;
      out[at++] = f.window;
    }
    for (let i = 0; i < ports.length; i++, at += FluidFabric.CONDITION_WIDTH) this.fabric.portConditions(ports[i]!, out, at);
    return out;
  }
}

/** A phase the fabric carries while its activity is recorded at checkpoints. */
class Recorder {
  nextStopUs: number;
  private stepUs = CHECKPOINT_US;
  private readonly base: Float64Array;
  private readonly peak: Float64Array;
  private readonly times: number[] = [];
  private readonly rows: Float32Array[] = [];
  private readonly peaks: Float32Array[] = [];
  private readonly scratch: Float64Array;
  /** Snapshot-restarted fields as they stood just before telemetry was last read. */
  private readonly beforeRead: Float64Array;
  private readonly restarted: number[];
  private snapshotsSeen: number;

  constructor(
    private readonly fabric: FluidFabric,
    private readonly ports: Int32Array,
    private readonly descriptor: Float64Array,
    readonly hash: number,
    private readonly startUs: number,
    private readonly width: number,
  ) {
    this.base = new Float64Array(ports.length * width);
    this.scratch = new Float64Array(ports.length * width);
    this.beforeRead = new Float64Array(ports.length * width);
    this.restarted = fabric.snapshotRestartedFields;
    this.snapshotsSeen = fabric.snapshotsTaken;
    for (let i = 0; i < ports.length; i++) fabric.readPortActivity(ports[i]!, this.base, i * width);
    this.peak = new Float64Array(ports.length);
    for (const p of ports) fabric.markStretch(p);
    this.nextStopUs = startUs + this.stepUs;
  }

  checkpoint(nowUs: number): void {
    this.readDelta(this.scratch);
    const row = new Float32Array(this.scratch);
    this.times.push(nowUs - this.startUs);
    this.rows.push(row);
    this.peaks.push(this.takePeaks());
    if (this.times.length >= MAX_CHECKPOINTS) this.thin();
    this.nextStopUs = this.startUs + this.times[this.times.length - 1]! + this.stepUs;
  }

  /**
   * Telemetry may be read now: a snapshot restarts the histograms, so their values are kept to
   * rebase on (rebaseAfterSnapshot) once one was taken.
   */
  beforeTelemetryRead(): void {
    this.rebaseAfterSnapshot();
    for (let i = 0; i < this.ports.length; i++) this.fabric.readPortActivity(this.ports[i]!, this.beforeRead, i * this.width);
  }

  finish(nowUs: number): PhaseRecording | undefined {
    const durationUs = nowUs - this.startUs;
    const final = new Float64Array(this.ports.length * this.width);
    this.readDelta(final);
    const lastPeaks = this.takePeaks();
    if (!(durationUs > 0)) return undefined;
    // Checkpoints at the very end add nothing the final vector does not hold.
    while (this.times.length > 0 && this.times[this.times.length - 1]! >= durationUs) {
      this.times.pop();
      this.rows.pop();
      const merged = this.peaks.pop()!;
      for (let i = 0; i < merged.length; i++) lastPeaks[i] = Math.max(lastPeaks[i]!, merged[i]!);
    }
    return this.withoutIdlePorts({
      descriptor: this.descriptor,
      durationUs,
      ports: this.ports,
      times: this.times,
      rows: this.rows,
      peaks: [...this.peaks, lastPeaks],
      peak: new Float32Array(this.peak),
      final,
    });
  }

  /**
   * The recording restricted to the ports the phase changed: the plan also lists the leaf port
   * facing each sending NIC, for the PAUSE it may receive, which an uncongested phase never
   * sends, and each replay would otherwise add zeros to all of them.
   */
  private withoutIdlePorts(rec: PhaseRecording): PhaseRecording {
    const w = this.width;
    const used = (values: ArrayLike<number>, i: number): boolean => {
      for (let k = i * w; k < (i + 1) * w; k++) if (values[k] !== 0) return true;
      return false;
    };
    const keep: number[] = [];
    for (let i = 0; i < rec.ports.length; i++) {
      if (rec.peak[i]! > 0 || used(rec.final, i) || rec.rows.some((row) => used(row, i))) keep.push(i);
    }
    if (keep.length === rec.ports.length) return rec;
    const rows = <T extends Float32Array | Float64Array>(values: T, make: (n: number) => T): T => {
      const out = make(keep.length * w);
      keep.forEach((i, j) => out.set(values.subarray(i * w, (i + 1) * w), j * w));
      return out;
    };
    const perPort = (values: Float32Array): Float32Array => Float32Array.from(keep, (i) => values[i]!);
    return {
      ...rec,
      ports: Int32Array.from(keep, (i) => rec.ports[i]!),
      rows: rec.rows.map((row) => rows(row, (n) => new Float32Array(n))),
      peaks: rec.peaks.map(perPort),
      peak: perPort(rec.peak),
      final: rows(rec.final, (n) => new Float64Array(n)),
    };
  }

  /** Activity since the start, per port. */
  private readDelta(out: Float64Array): void {
    this.rebaseAfterSnapshot();
    const w = this.width;
    for (let i = 0; i < this.ports.length; i++) {
      this.fabric.readPortActivity(this.ports[i]!, out, i * w);
      for (let k = i * w; k < (i + 1) * w; k++) out[k] = out[k]! - this.base[k]!;
    }
  }

  /**
   * A snapshot restarted the histogram fields from zero at the last telemetry read: what they had
   * gained by then stays counted, as a base below zero.
   */
  private rebaseAfterSnapshot(): void {
    if (this.fabric.snapshotsTaken === this.snapshotsSeen) return;
    this.snapshotsSeen = this.fabric.snapshotsTaken;
    for (let i = 0; i < this.ports.length; i++) {
      for (const f of this.restarted) this.base[i * this.width + f]! -= this.beforeRead[i * this.width + f]!;
    }
  }

  /** Each port's peak queue since the last checkpoint; a new stretch starts. */
  private takePeaks(): Float32Array {
    const out = new Float32Array(this.ports.length);
    for (let i = 0; i < this.ports.length; i++) {
      const w = this.fabric.markStretch(this.ports[i]!);
      out[i] = w;
      if (w > this.peak[i]!) this.peak[i] = w;
    }
    return out;
  }

  /** Keeps every second checkpoint (merging the stretches' peaks) and doubles the spacing. */
  private thin(): void {
    const n = this.times.length;
    let kept = 0;
    for (let k = 1; k < n; k += 2) {
      const merged = this.peaks[k]!;
      const before = this.peaks[k - 1]!;
      for (let i = 0; i < merged.length; i++) merged[i] = Math.max(merged[i]!, before[i]!);
      this.times[kept] = this.times[k]!;
      this.rows[kept] = this.rows[k]!;
      this.peaks[kept] = merged;
      kept++;
    }
    if (n % 2 === 1) {
      // The odd one out keeps its stretch (back to the last kept checkpoint).
      const last = this.peaks[n - 1]!;
      this.times[kept] = this.times[n - 1]!;
      this.rows[kept] = this.rows[n - 1]!;
      this.peaks[kept] = last;
      kept++;
    }
    this.times.length = kept;
    this.rows.length = kept;
    this.peaks.length = kept;
    this.stepUs *= 2;
  }
}

/** A recorded phase playing out on its ports from `startUs`. */
class Replay {
  readonly endUs: number;
  /** Activity already added to the ports; none until a sample falls inside the replay. */
  private shown: Float64Array | undefined;
  /** Checkpoint stretches whose peaks the watermarks already hold. */
  private peaksShown = 0;

  constructor(
    private readonly recording: PhaseRecording,
    private readonly startUs: number,
    private readonly width: number,
  ) {
    this.endUs = startUs + recording.durationUs;
  }

  /** Brings the ports to the recording's state at `nowUs` (its end once past it). */
  showProgress(fabric: FluidFabric, nowUs: number): void {
    const rec = this.recording;
    const x = nowUs - this.startUs;
    // Before its start, or already shown to its end (the engine may ask again).
    if (x <= 0 || this.peaksShown === rec.peaks.length) return;
    let target: Float64Array;
    let peaksDone: number;
    if (x >= rec.durationUs) {
      target = rec.final;
      peaksDone = rec.peaks.length;
    } else {
      // Checkpoint k is the last at or before x; interpolate towards the next (or the end).
      let k = -1;
      while (k + 1 < rec.times.length && rec.times[k + 1]! <= x) k++;
      const t0 = k < 0 ? 0 : rec.times[k]!;
      const t1 = k + 1 < rec.times.length ? rec.times[k + 1]! : rec.durationUs;
      const next: ArrayLike<number> = k + 1 < rec.rows.length ? rec.rows[k + 1]! : rec.final;
      const f = (x - t0) / (t1 - t0);
      const from = k < 0 ? undefined : rec.rows[k]!;
      target = new Float64Array(rec.final.length);
      for (let j = 0; j < target.length; j++) {
        const a = from ? from[j]! : 0;
        target[j] = a + (next[j]! - a) * f;
      }
      peaksDone = k + 1;
    }
    const w = this.width;
    const shown = this.shown;
    if (!shown && target === rec.final) {
      this.showAllAtOnce(fabric);
      return;
    }
    const delta = shown ? new Float64Array(w) : target;
    for (let i = 0; i < rec.ports.length; i++) {
      const p = rec.ports[i]!;
      if (shown) {
        for (let k = 0; k < w; k++) delta[k] = target[i * w + k]! - shown[i * w + k]!;
        fabric.addPortActivity(p, delta, 0);
      } else fabric.addPortActivity(p, target, i * w);
      if (this.peaksShown === 0 && peaksDone === rec.peaks.length) fabric.raiseWatermark(p, rec.peak[i]!);
      else for (let s = this.peaksShown; s < peaksDone; s++) fabric.raiseWatermark(p, rec.peaks[s]![i]!);
      fabric.raiseWatermark(p, fabric.queue[p]!);
    }
    // The end needs no record of what was shown: nothing follows it.
    if (peaksDone < rec.peaks.length) this.shown = target;
    this.peaksShown = peaksDone;
  }

  /**
   * The whole phase at once (no sample fell inside it), the common case: only its non-zero
   * entries, and watermarks only where a queue formed or changed. Elsewhere a port's queue and
   * watermark stay as they were (the watermark is never below the queue).
   */
  private showAllAtOnce(fabric: FluidFabric): void {
    const rec = this.recording;
    const w = this.width;
    const { at, values, queued } = finalEntries(rec);
    let last = -1;
    for (let e = 0; e < at.length; e++) {
      const k = at[e]!;
      const i = (k / w) | 0;
      if (i !== last && last >= 0) fabric.raiseWatermark(rec.ports[last]!, fabric.queue[rec.ports[last]!]!);
      last = i;
      fabric.addPortActivityField(rec.ports[i]!, k - i * w, values[e]!);
    }
    if (last >= 0) fabric.raiseWatermark(rec.ports[last]!, fabric.queue[rec.ports[last]!]!);
    for (let q = 0; q < queued.length; q++) fabric.raiseWatermark(rec.ports[queued[q]!]!, rec.peak[queued[q]!]!);
    this.peaksShown = rec.peaks.length;
  }
}

function hashOf(values: Float64Array): number {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return h >>> 0;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}
