/**
 * Congestion episodes per port: a run of samples showing any congestion signal (see
 * congestion-signals.ts), closed once the port has been clean for CLOSE_GAP_MS of event time.
 * The episode's end is its last congested sample, so the gap never inflates it. Closed episodes
 * are handed back for publishing; recent ones (open and closed) stay queryable for the correlator
 * within an event-time retention.
 *
 * Per-port samples are processed in time order; a sample not newer than the port's last one is
 * late: counted, not applied (the episode decisions already made stand).
 */
import { createHash } from 'node:crypto';
import type { CongestionEpisode, PortSample } from '../core/records.js';
import { signalsOf } from './congestion-signals.js';

/** Clean event time after which an episode is over: 5 switch intervals, so a single clean sample between bursts does not split one episode in two. */
export const CLOSE_GAP_MS = 500;
/** How long closed episodes stay queryable behind the port watermark. */
export const EPISODE_RETENTION_MS = 120_000;

export interface EpisodeView extends CongestionEpisode {
  open: boolean;
}

interface PortState {
  lastTs: number;
  open?: CongestionEpisode;
  closed: CongestionEpisode[];
}

/** Deterministic id: the same port and start give the same id on every replay. */
export function episodeId(port: string, startMs: number): string {
  return 'ep-' + createHash('sha1').update(`${port}@${startMs}`).digest('hex').slice(0, 16);
}

export class EpisodeTracker {
  private readonly ports = new Map<string, PortState>();
  private lateSamples = 0;
  private opened = 0;
  private closedCount = 0;
  /** The watermark of the last advance(). */
  private advancedTo = Number.NaN;

  /** Applies samples; returns the episodes they closed. */
  ingest(samples: readonly PortSample[]): CongestionEpisode[] {
    const closed: CongestionEpisode[] = [];
    for (const s of samples) {
      let st = this.ports.get(s.port);
      if (!st) this.ports.set(s.port, (st = { lastTs: Number.NEGATIVE_INFINITY, closed: [] }));
      if (s.ts_ms <= st.lastTs) {
        this.lateSamples++;
        continue;
      }
      st.lastTs = s.ts_ms;
      const signals = signalsOf(s);
      const ep = st.open;
      if (ep && s.ts_ms - ep.end_ms >= CLOSE_GAP_MS) closed.push(this.close(st));
      if (signals.length === 0) continue;
      if (!st.open) {
        this.opened++;
        st.open = {
          id: episodeId(s.port, s.ts_ms),
          port: s.port,
          device: s.device,
          start_ms: s.ts_ms,
          end_ms: s.ts_ms,
          peak_queue_bytes: 0,
          ecn_marked_pkts: 0,
          pfc_tx_pause_frames: 0,
          pfc_rx_pause_us: 0,
          credit_stall_us: 0,
          link_errors: 0,
          signals: [],
        };
      }
      const open = st.open;
      open.end_ms = s.ts_ms;
      open.peak_queue_bytes = Math.max(open.peak_queue_bytes, s.queue_bytes);
      open.ecn_marked_pkts += s.ecn_marked_pkts;
      open.pfc_tx_pause_frames += s.pfc_tx_pause_frames;
      open.pfc_rx_pause_us += s.pfc_rx_pause_us;
      open.credit_stall_us += s.credit_stall_us;
      open.link_errors += s.link_errors;
      for (const sig of signals) if (!open.signals.includes(sig)) open.signals.push(sig);
    }
    return closed;
  }

  /**
   * Closes episodes whose port has been clean up to the watermark (a port that went silent
   * must still end its episode) and drops closed ones beyond retention.
   */
  advance(watermark: number): CongestionEpisode[] {
    // Only a moved watermark can close or expire anything (samples that are not late are at or
    // past it): the pass over every port is skipped for the many batches that leave it in place.
    if (watermark === this.advancedTo) return [];
    this.advancedTo = watermark;
    const closed: CongestionEpisode[] = [];
    for (const st of this.ports.values()) {
      if (st.open && watermark - st.open.end_ms >= CLOSE_GAP_MS) closed.push(this.close(st));
      const cutoff = watermark - EPISODE_RETENTION_MS;
      while (st.closed.length > 0 && st.closed[0]!.end_ms < cutoff) st.closed.shift();
    }
    return closed;
  }

  /** End of stream: closes every open episode. */
  closeAll(): CongestionEpisode[] {
    const closed: CongestionEpisode[] = [];
    for (const st of this.ports.values()) if (st.open) closed.push(this.close(st));
    return closed;
  }

  /** The episode of `port` (open or closed) that started at or before `ts` and had not ended before it. */
  episodeAt(port: string, ts: number): EpisodeView | undefined {
    const st = this.ports.get(port);
    if (!st) return undefined;
    if (st.open && st.open.start_ms <= ts) return { ...st.open, open: true };
    for (let i = st.closed.length - 1; i >= 0; i--) {
      const ep = st.closed[i]!;
      if (ep.start_ms <= ts && ep.end_ms >= ts) return { ...ep, open: false };
    }
    return undefined;
  }

  /** Recent episodes overlapping [from, to], open ones included, oldest first. */
  overlapping(from: number, to: number, port?: string): EpisodeView[] {
    const out: EpisodeView[] = [];
    const states = port ? [this.ports.get(port)].filter((s): s is PortState => !!s) : [...this.ports.values()];
    for (const st of states) {
      for (const ep of st.closed) if (ep.start_ms <= to && ep.end_ms >= from) out.push({ ...ep, open: false });
      if (st.open && st.open.start_ms <= to && st.open.end_ms >= from) out.push({ ...st.open, open: true });
    }
    return out.sort((a, b) => a.start_ms - b.start_ms || a.port.localeCompare(b.port));
  }

  stats(): { open: number; opened: number; closed: number; late_samples: number } {
    let open = 0;
    for (const st of this.ports.values()) if (st.open) open++;
    return { open, opened: this.opened, closed: this.closedCount, late_samples: this.lateSamples };
  }

  private close(st: PortState): CongestionEpisode {
    const ep = st.open!;
    st.open = undefined;
    st.closed.push(ep);
    this.closedCount++;
    return { ...ep, signals: [...ep.signals] };
  }
}
