/**
 * Send-and-verify traffic for the Kafka tests: switches posting sequence-numbered port
 * samples to collectors over OTLP/HTTP, one request per sequence number (timestamp
 * T0 + seq × 100 ms, queue depth = seq), each retried until a collector answers 200, as an
 * exporter does. It records what was acknowledged and which sequence numbers are ambiguous:
 * an attempt whose fate the sender cannot know (the connection dropped, or the collector
 * answered 503 after a send to Kafka had started and failed), which may therefore be stored
 * once more by the retry. A refusal before any send (the broker breaker, a full producer) is
 * not ambiguous.
 */
import { switchPayload, zeroPort } from '../collectors/otlp-fixtures.js';

export const SEQ_T0 = Date.parse('2026-01-01T00:00:00Z');
export const SEQ_STEP_MS = 100;
export const SEQ_PORTS = ['swp1', 'swp2', 'swp3', 'swp4'];

/** Refusals that happen before anything is sent to Kafka (pipeline/kafka/). */
const REFUSED_UNSENT = /have not answered for|records in flight/;

export interface SequenceLog {
  /** Per switch: sequence numbers a collector acknowledged (200). */
  acknowledged: Map<string, Set<number>>;
  ambiguous: Map<string, Set<number>>;
  /** 503/429 answers, and how many carried Retry-After. */
  backpressured: number;
  withRetryAfter: number;
  /** Refusals of the broker breaker (before any send). */
  refusedUnsent: number;
}

export class SequenceSender {
  readonly log: SequenceLog = { acknowledged: new Map(), ambiguous: new Map(), backpressured: 0, withRetryAfter: 0, refusedUnsent: 0 };
  private stopping = false;
  private running: Promise<void>[] = [];
  private turn = 0;

  /** `collectors()`: the OTLP/HTTP base URLs to spread requests over (read per attempt). */
  constructor(
    private readonly switches: string[],
    private readonly collectors: () => string[],
  ) {
    for (const s of switches) {
      this.log.acknowledged.set(s, new Set());
      this.log.ambiguous.set(s, new Set());
    }
  }

  start(): void {
    this.running = this.switches.map((s) => this.sendAll(s));
  }

  /** Total acknowledged so far. */
  get acknowledgedCount(): number {
    let n = 0;
    for (const set of this.log.acknowledged.values()) n += set.size;
    return n;
  }

  /** Stops after the request in hand is acknowledged. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  private async sendAll(device: string): Promise<void> {
    for (let seq = 0; !this.stopping; seq++) await this.sendOne(device, seq);
  }

  private async sendOne(device: string, seq: number): Promise<void> {
    const ports = Object.fromEntries(SEQ_PORTS.map((p) => [p, zeroPort({ queue: seq })]));
    const body = JSON.stringify(switchPayload(device, SEQ_T0 + seq * SEQ_STEP_MS, ports, SEQ_T0 - 1000));
    for (;;) {
      const targets = this.collectors();
      const url = targets[this.turn++ % targets.length]!;
      let res: Response;
      try {
        res = await fetch(`${url}/v1/metrics`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(30_000) });
      } catch {
        this.log.ambiguous.get(device)!.add(seq);
        await pause(200);
        continue;
      }
      const text = await res.text().catch(() => '');
      if (res.status === 200) {
        this.log.acknowledged.get(device)!.add(seq);
        return;
      }
      if (res.status !== 503 && res.status !== 429) throw new Error(`collector ${url} answered ${res.status} to ${device} #${seq}: ${text}`);
      this.log.backpressured++;
      const retryAfter = Number(res.headers.get('retry-after'));
      if (retryAfter > 0) this.log.withRetryAfter++;
      if (REFUSED_UNSENT.test(text)) this.log.refusedUnsent++;
      else this.log.ambiguous.get(device)!.add(seq);
      // Honour Retry-After, capped so tests stay short.
      await pause(Math.min(retryAfter > 0 ? retryAfter * 1000 : 500, 1000));
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** How a stored (port, ts) count compares with what the sender knows. */
export interface SequenceVerdict {
  /** Acknowledged (switch, seq) with fewer rows than ports. */
  lost: string[];
  /** (switch, seq) stored more than once per port although no attempt of it was ambiguous. */
  duplicated: string[];
  /** Stored but never sent. */
  unexpected: string[];
  /** Ambiguous ones that were indeed stored twice (allowed). */
  ambiguousTwice: number;
}

/** Stored port_samples rows per (device, ts), for verifySequences. */
export const SEQUENCE_ROWS = 'SELECT device, toUnixTimestamp64Milli(ts) AS ts_ms, count() AS n FROM port_samples GROUP BY device, ts';

/** `rows`: SEQUENCE_ROWS' answer (64-bit numbers come as strings). */
export function verifySequences(log: SequenceLog, rows: Array<{ device: string; ts_ms: number | string; n: number | string }>): SequenceVerdict {
  const stored = new Map<string, number>();
  for (const r of rows) stored.set(`${r.device}#${(Number(r.ts_ms) - SEQ_T0) / SEQ_STEP_MS}`, Number(r.n));
  const verdict: SequenceVerdict = { lost: [], duplicated: [], unexpected: [], ambiguousTwice: 0 };
  const sent = new Set<string>();
  for (const [device, acked] of log.acknowledged) {
    const ambiguous = log.ambiguous.get(device)!;
    for (const seq of new Set([...acked, ...ambiguous])) {
      const key = `${device}#${seq}`;
      sent.add(key);
      const n = stored.get(key) ?? 0;
      if (acked.has(seq) && n < SEQ_PORTS.length) verdict.lost.push(`${key}: ${n} rows`);
      if (n > SEQ_PORTS.length) {
        if (ambiguous.has(seq)) verdict.ambiguousTwice++;
        else verdict.duplicated.push(`${key}: ${n} rows`);
      }
    }
  }
  // Only the sender's switches: a test may post other samples beside them.
  for (const key of stored.keys()) if (log.acknowledged.has(key.split('#')[0]!) && !sent.has(key)) verdict.unexpected.push(key);
  return verdict;
}
