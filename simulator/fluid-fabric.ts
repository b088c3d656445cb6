/**
 * The switch fabric as an event-driven fluid model (fabric-modeling.md §0, §6.2–6.3).
 *
 * Every egress queue holds fluid: between two events its arrival and service rates are constant,
 * so its length is linear in time. The next event is therefore computed, not stepped: a queue
 * emptying or crossing its dynamic PFC XOFF/XON threshold (α × free shared buffer, itself linear
 * in time) or Kmin when congestion control must react then, a sender finishing, a ring sender
 * filling its window, a flow delivered, a PAUSE/RESUME reaching the upstream port one link delay
 * after it was sent, or the congestion-control interval (only while some sender is rate-limited).
 * Rates are recomputed at events only, so quiet periods (compute phases) cost nothing. Counters
 * accrue in closed form over each interval: ECN marks integrate the RED probability over the
 * linear queue, watermarks are the exact maxima, egress-buffer histograms the exact time spent
 * in each bin.
 *
 * PFC in equilibrium: once a queue's PAUSE has reached its upstream ports, the queue is held and
 * the upstream ports (or NICs) are paused for the share of time that makes its arrivals equal its
 * drain — the fluid average of the µs-scale XOFF/XON cycle, which would otherwise cost an event
 * pair per port every few µs. Frames and pause time accrue in proportion to that share.
 *
 * Simplifications (documented in the report): background tenants take a share of each scale-out
 * link's capacity instead of queueing; buffer accounting is per egress queue (not per ingress PG);
 * scale-up ports are lossless credit links whose excess demand waits at the sender, not in a queue.
 */
import type { Topology } from '../core/topology.js';
import { parseName } from '../core/names.js';
import { advanceDcqcn, newDcqcnState, type DcqcnState } from './dcqcn.js';
import { creditBoundBytesPerUs, healthyCreditLink, replaysPerByte, type CreditLinkState } from './credit-link.js';
import { EGRESS_HISTOGRAM_BOUNDS, addLinearSegment } from './queue-histogram.js';
import { DirtyRows } from './dirty-rows.js';
import { RowHeap } from './row-heap.js';
import { InvalidArgumentError } from '../core/errors.js';

/** Fabric parameters: 400G defaults from fabric-modeling.md §1.4/§4 (SimAI/ASTRA-sim ns-3 configs). */
export const FABRIC_DEFAULTS = {
  mtuBytes: 4096,
  ecnKminBytes: 800 * 1024,
  ecnKmaxBytes: 3200 * 1024,
  ecnPmax: 0.2,
  sharedBufferBytes: 32 * 1024 * 1024,
  /** PFC dynamic threshold: XOFF when a queue exceeds α × free shared buffer (HPCC shift 3). */
  pfcAlpha: 1 / 8,
  /** XON once the queue is this far below the threshold (HPCC resume offset 3 KB). */
  pfcXonOffsetBytes: 3 * 1024,
  /** A paused link is refreshed before the 0xFFFF quanta (~84 µs at 400G) expire. */
  pfcRefreshUs: 40,
  /** Propagation per hop: a PAUSE reaches the upstream port this much later (µs). */
  linkDelayUs: 1,
  /**
   * PFC equilibrium: while a queue's XOFF is in effect upstream, the upstream ports are paused a
   * share of the time such that the queue's arrivals equal its drain (the fluid average of the
   * µs-scale XOFF/XON cycle). Rates are re-balanced at every recompute, and at the latest when
   * the held queue has drifted this far.
   */
  pfcHoldBandBytes: 32 * 1024,
  /**
   * A held queue's pause share is re-balanced when the drain it would give moves by more than
   * this share of the current one, or once the queue drifted by the band since the last
   * re-balance. Every re-balance re-rates the senders of the NICs paused, whose new rates move
   * every held queue's arrivals a little, so without it each event re-balances (and re-rates)
   * everything again; the band still bounds the drift.
   */
  pfcRebalanceShare: 0.05,
  /** Congestion-control interval while some queue marks (µs). */
  ccIntervalUs: 50,
  /**
   * When marking begins, the first update comes this soon (µs): CNPs reach the senders about one
   * round trip plus the notification point's CNP spacing after the queue passes Kmin, so the
   * senders' first cut must not wait for the interval (else a small incast overshoots to PFC).
   */
  ccFirstReactionUs: 5,
  /**
   * While a marking queue rises, updates come each time it may have grown this much (at least
   * ccFirstReactionUs, at most ccIntervalUs apart): the senders' NICs cut every 4 µs while CNPs
   * arrive, so a fast-rising incast needs updates every few µs or it overshoots into PFC, while a
   * queue creeping about Kmin (the DCQCN steady state) needs only the regular interval.
   */
  ccMarkingRiseBytes: 160 * 1024,
  /**
   * Congestion-control interval while senders only recover, nothing marking (µs). Recovery is
   * closed form over any interval (dcqcn.ts); the interval only sets how often the new rates
   * reach the queues. Longer than 100 µs visibly changes the sawtooth of oversubscribed ports.
   */
  ccRecoveryIntervalUs: 100,
  /** Interval once every recovering sender is near line rate and mostly α decays (µs). */
  ccTailIntervalUs: 500,
  /** A recovering sender at this share of its line rate or more is near line rate. */
  ccNearLineShare: 0.98,
  /** Flows finishing this close together complete as one event (µs). */
  completionBatchUs: 0.5,
  /**
   * ... or within this share of their run so far: thousands of flows of one collective phase
   * then complete in a few events instead of one each, shifting a completion by at most 0.2 %.
   */
  completionBatchShare: 0.002,
  /**
   * What falls due this soon after an event is handled with it (µs): queue crossings (PFC
   * XOFF/XON thresholds, Kmin), PAUSE/RESUME arrivals, queues draining empty and senders'
   * last bytes (both then go straight on to the receiver). A phase start or end sends dozens of
   * queues across their thresholds and dozens of senders to their end within a µs, and each
   * would otherwise be an event (and a pause another) of its own. Shifts each by at most this.
   */
  eventBatchUs: 0.5,
};
export type FabricParams = typeof FABRIC_DEFAULTS;

/** A coupled set of flows: NCCL ring or tree edges, each forwarding what its predecessor delivered. */
export interface FlowGroup {
  members: Flow[];
  /** The fabric's bookkeeping: the group's row in its group table while it has live members. */
  slot?: number;
  owner?: unknown;
}

/**
 * One point-to-point transfer (a QP bundle) crossing a list of egress ports. The handle the
 * owner holds; the state that changes between events (bytes left, delivered, rates, backlog)
 * lives in the fabric's flow and hop tables, row `slot`.
 */
export interface Flow {
  readonly id: number;
  /** Simulated µs the flow was added. */
  readonly startUs: number;
  /** Egress port indexes, in order. */
  readonly path: Int32Array;
  /** Hop index at each level (uplink, spine downlink, leaf downlink), -1 where the path has none. */
  readonly hopAtLevel: Int8Array;
  /** Sending NIC index, -1 for a GPU on the scale-up fabric or an external (other-tenant) sender. */
  readonly srcNic: number;
  readonly external: boolean;
  readonly scaleUp: boolean;
  /** Bytes to deliver (Infinity for an external sender that runs until removed). */
  readonly size: number;
  readonly lineRate: number;
  /**
   * Identical senders this row stands for: same path, size, line rate and start, hence the same
   * DCQCN state and rates at all times (an incast's senders sharing a spine). The per-row work
   * is done once; the row's rates and bytes count this many times at every port it crosses.
   */
  readonly weight: number;
  /** Row of this flow in the fabric's flow tables (its index in `flows`; moves on compaction). */
  slot: number;
  /** Bytes in flight a ring sender may have before it waits on its predecessor. */
  readonly window: number;
  readonly group: FlowGroup | undefined;
  readonly cc: DcqcnState | undefined;
  done: boolean;
  /** Free for the owner (the collective engine). */
  tag: unknown;
}

export interface PortCounters {
  tx_bytes: number;
  tx_packets: number;
  ecn_marked_pkts: number;
  pfc_tx_pause_frames: number;
  pfc_rx_pause_frames: number;
  pfc_rx_pause_us: number;
  pfc_tx_pause_us: number;
  link_errors: number;
  symbol_errors: number;
  credit_stall_us: number;
  credits_available: number;
  replays: number;
  queue_bytes: number;
  watermark_bytes: number;
  oper_up: boolean;
  carrier_changes: number;
  /** Time-weighted queue-depth histogram since the last snapshot (samples of 1 µs per bin). */
  egress_histogram: number[];
}

/**
 * The numeric PortCounters fields in their declaration order: the columns of a counter row
 * (readCounters), oper_up as 1 or 0. The egress histogram goes to a row of its own.
 */
export const PORT_COUNTER_FIELDS = [
  'tx_bytes',
  'tx_packets',
  'ecn_marked_pkts',
  'pfc_tx_pause_frames',
  'pfc_rx_pause_frames',
  'pfc_rx_pause_us',
  'pfc_tx_pause_us',
  'link_errors',
  'symbol_errors',
  'credit_stall_us',
  'credits_available',
  'replays',
  'queue_bytes',
  'watermark_bytes',
  'oper_up',
  'carrier_changes',
] as const satisfies readonly (keyof PortCounters)[];

const LEVEL_OF_ROLE = { leaf_uplink: 0, spine_downlink: 1, leaf_downlink: 2, nvsw_gpu: 0 } as const;
const EPS_BYTES = 0.5;
/** Smallest share of time a held queue lets its upstream send (keeps the balance able to recover). */
const MIN_PASS = 1e-3;
const NO_FLOWS: Flow[] = [];

export class FluidFabric {
  readonly names: string[];
  readonly index = new Map<string, number>();
  readonly devices: string[];
  private readonly deviceOf: Int32Array;
  readonly isScaleUp: Uint8Array;
  private readonly level: Uint8Array;
  private readonly nominal: Float64Array;
  /** Fault-applied capacity factor (degraded link), oper state and credit state. */
  readonly capacityFactor: Float64Array;
  readonly operUp: Uint8Array;
  readonly credit: CreditLinkState[];
  readonly creditSeverity: Float64Array;
  private readonly cap: Float64Array;
  /** cap × (1 − pause share) of the active ports, as of the current rate pass. */
  private readonly capNow: Float64Array;
  readonly queue: Float64Array;
  private readonly lam: Float64Array;
  private readonly srv: Float64Array;
  private readonly dq: Float64Array;
  readonly watermark: Float64Array;
  /** Bytes the flows sent (other tenants' background bytes are kept apart, in backgroundTxBytes). */
  readonly txBytes: Float64Array;
  private readonly backgroundTxBytes: Float64Array;
  readonly ecnMarked: Float64Array;
  private readonly markIntegral: Float64Array;
  private readonly markIntegralAtCc: Float64Array;
  readonly pfcTx: Float64Array;
  readonly pfcRx: Float64Array;
  readonly pauseUs: Float64Array;
  readonly pauseTxUs: Float64Array;
  readonly linkErrors: Float64Array;
  readonly creditStallUs: Float64Array;
  readonly replays: Float64Array;
  readonly carrierChanges: Float64Array;
  private readonly histogram: Float64Array;
  private readonly histAccountedUs: Float64Array;
  private readonly nBins = EGRESS_HISTOGRAM_BOUNDS.length + 1;
  /** Ports forced to assert PAUSE (pfc_storm at a port) and NICs forced to pause their leaf port. */
  readonly forcedXoff: Uint8Array;
  readonly forcedNicPause: Uint8Array;
  /** This port's queue asserts XOFF (decided now) / upstream sees it (one link delay later). */
  private readonly xoff: Uint8Array;
  private readonly xoffSeen: Uint8Array;
  private readonly xoffSince: Float64Array;
  /** Share of time a port (NIC) is paused by its downstream: 1 for a storm, less in equilibrium. */
  private readonly pauseShare: Float64Array;
  private readonly pausedSince: Float64Array;
  private readonly nicPauseShare: Float64Array;
  /** Share of time the XOFF of a port whose pause has arrived upstream is in effect (equilibrium). */
  private readonly heldShare: Float64Array;
  /** Queue length of a held port when its share was last (re-)balanced. */
  private readonly heldQueueAt: Float64Array;
  private readonly pauseStamp: Int32Array;
  private pauseBuild = 0;
  private readonly peerNic: Int32Array;
  private readonly peerPort: Int32Array;
  private readonly nicPort: Int32Array;
  private readonly devUsage: Float64Array;
  private readonly devSlope: Float64Array;
  private readonly pendingPause: Array<{ t: number; port: number; on: boolean }> = [];
  /** Ports xoffSeen is set on (skips the pause scan when none). */
  private xoffSeenCount = 0;
  /**
   * Ports that can change between events: on a flow's path, queued, pausing or paused. Every
   * per-event loop runs over these only; recompute() rebuilds the set (double-buffered).
   */
  private activePorts: Int32Array;
  private activeCount = 0;
  private nextActive: Int32Array;
  private nextActiveCount = 0;
  private readonly activeStamp: Int32Array;
  private epoch = 0;
  private readonly pausedA: Int32Array;
  private readonly pausedB: Int32Array;
  private pausedPorts: Int32Array;
  private pausedCount = 0;
  private readonly wasPaused: Int32Array;
  private readonly nicPausedList: Int32Array;
  private nicPausedCount = 0;
  /** Storming ports and NICs, rebuilt from forcedXoff/forcedNicPause on faultsChanged(). */
  private forcedPorts: number[] = [];
  private forcedNics: number[] = [];
  /** Ports that marked since the last congestion-control update. */
  private readonly markedStamp: Uint8Array;
  private readonly markedPorts: Int32Array;
  private markedCount = 0;
  private readonly markShare: Float64Array;
  private ccActive = new Int32Array(256);
  private ccActiveCount = 0;
  private ccActiveStale = true;
  /** Congestion control runs on the marking interval (true) or on recovery events (false). */
  private ccMarking = false;
  private readonly p: FabricParams;
  readonly flows: Flow[] = [];
  private nextFlowId = 0;
  /**
   * Per-hop state of every live flow, flow-major in `flows` order (entry = fBase[row] + hop), so
   * the per-event passes run over flat arrays: egress port, arrival and output rate (bytes/µs),
   * bytes queued, and whether the hop is the flow's last.
   */
  private hopPort = new Int32Array(1024);
  private hopIn = new Float64Array(1024);
  private hopOut = new Float64Array(1024);
  private hopBacklog = new Float64Array(1024);
  private hopLast = new Uint8Array(1024);
  /** Level of the hop the rate pass visits for its flow there, −1 for a hop it skips. */
  private hopLevel = new Int8Array(1024);
  /** The flow's weight (Flow.weight), per hop: what its rates and bytes count for at the port. */
  private hopWeight = new Float64Array(1024);
  private hopCount = 0;
  /**
   * Per-flow state, row = index in `flows`: first hop entry, hop count, bytes left to inject,
   * delivered, injection rate since the last recompute (bytes/µs), bytes sent since the last
   * congestion-control update, size, ring window, start time, the sender's rate limit (line
   * rate or its DCQCN rate), sending NIC, external and scale-up flags, group row (−1: none).
   */
  private fBase = new Int32Array(256);
  private fHops = new Int32Array(256);
  private fRemaining = new Float64Array(256);
  private fDelivered = new Float64Array(256);
  private fSend = new Float64Array(256);
  private fCcSent = new Float64Array(256);
  private fSize = new Float64Array(256);
  private fWindow = new Float64Array(256);
  private fStartUs = new Float64Array(256);
  private fRateCap = new Float64Array(256);
  private fSrcNic = new Int32Array(256);
  private fExternal = new Uint8Array(256);
  private fScaleUp = new Uint8Array(256);
  private fGroup = new Int32Array(256);
  /** 1 for a finished flow whose row waits for the next compaction (all its rates are zero). */
  private fDead = new Uint8Array(256);
  /** Finished rows still in the tables; compacted once they are half of them. */
  private deadRows = 0;
  /** Ring pace per live group (slowest live member's delivered rate, bytes/µs), by group row. */
  private groupCap = new Float64Array(64);
  /**
   * Per dirty group row: 1 when its pace needs a scan of all members (a member that was the pace
   * changed, or a member started or stopped); else the pace is the lower of the old one and
   * groupUndercut, the lowest new delivered rate of a live member below it (a min is exact in
   * any order, so this equals the scan). groupAtPace counts the live members delivering exactly
   * the pace, so a pace member rising needs a scan only when it was the last one.
   */
  private groupRescan = new Uint8Array(64);
  private groupUndercut = new Float64Array(64);
  private groupUndercutCount = new Int32Array(64);
  private groupAtPace = new Int32Array(64);
  /** Per dirty group row: live members that reached the pace (+) or left it (−) in this pass. */
  private groupAtPaceDelta = new Int32Array(64);
  /** Live members per group row; rows of groups without any are reused. */
  private groupLive = new Int32Array(64);
  private readonly freeGroupRows: number[] = [];
  /** Group rows in use or free (high-water mark). */
  private groupCount = 0;
  /** Hop entries at each level (uplink, spine downlink, leaf downlink), in flow order. */
  private levelHops = [new Int32Array(1024), new Int32Array(1024), new Int32Array(1024)];
  private readonly levelCount = new Int32Array(3);
  private levelsStale = true;
  /**
   * Incremental rate passes. A recompute runs two passes: the unwindowed one (variant A: it
   * gives the ring paces and the arrivals the PFC balance reads) and the final one (variant B:
   * lam/hopIn/hopOut/capNow). Each keeps its own tables from its previous run and recomputes
   * only the ports whose inputs changed since: a sender's rate, the port's capacity or queue
   * state, its set of hops, an upstream hop's output, or a hop's backlog running out. A
   * draining port needs nothing more: its hops drain their backlogs in proportion, so each
   * hop's share of the queue, hence its output, stays what it was until one of them empties.
   */
  private lamA: Float64Array;
  private capNowA: Float64Array;
  private hopInA = new Float64Array(1024);
  private hopOutA = new Float64Array(1024);
  /** Sender rate each pass last summed (NaN: not yet), by flow row. */
  private sendA = new Float64Array(256);
  private sendB = new Float64Array(256);
  /** Queue state the outputs depend on (1: queued scale-out port), as each pass last saw it. */
  private queuedA: Uint8Array;
  private queuedB: Uint8Array;
  /** Ports whose hops changed (flows added or finished, a backlog ran out) since the last final pass. */
  private portsChanged: Int32Array;
  private portsChangedCount = 0;
  private readonly portChangedStamp: Uint8Array;
  /** Recompute every path port in both passes (after a compaction moved the hop rows). */
  private allRatesStale = true;
  /** Ports to recompute in the running pass, by level. */
  private readonly dirtyStamp: Int32Array;
  private dirtyGen = 0;
  private readonly dirtyAtLevel: Int32Array[];
  private readonly dirtyCount = new Int32Array(3);
  /** dirtyGen of the last final rate pass (flows it changed carry it in fRateStamp). */
  private finalPassGen = 0;
  /** The rate-pass hops at each port, in flow order (CSR: first index and count into portHops). */
  private readonly portHopFirst: Int32Array;
  private readonly portHopCount: Int32Array;
  private portHops = new Int32Array(1024);
  /** Flow row of each hop entry (to tell which flows a rate pass changed). */
  private hopRow = new Int32Array(1024);
  /**
   * Each flow's next own event (absolute µs; −Infinity: to compute), kept while its rates
   * stand (its bytes move linearly, so the time holds); recomputed when the final rate pass
   * changed the flow (rateStamp = that pass) or the time has come.
   */
  private fNextUs = new Float64Array(256);
  private fRateStamp = new Int32Array(256);
  /** The live rows by fNextUs (Infinity ones too; they are also listed in noEventRows). */
  private readonly nextHeap = new RowHeap(this.fNextUs);
  /**
   * Rows the final rate passes since the last planning changed (fRateStamp = the dirtyGen of
   * the last of them that did, reRatedFrom or later).
   */
  private reRated = new Int32Array(256);
  private reRatedCount = 0;
  private reRatedFrom = 0;
  /** Rows whose fNextUs was set to Infinity (flagged in noEventFlag; stale entries dropped when read). */
  private noEventRows: number[] = [];
  private noEventFlag = new Uint8Array(256);
  /** Rows of live external senders (other tenants), in row order. */
  private externalRows: number[] = [];
  /** No live row before this one (rows die in any order; compaction resets it). */
  private firstLiveRow = 0;
  /** Flows processEvents checks at an event, by row. */
  private candidates = new Int32Array(256);
  /**
   * Rows whose sender rate the unwindowed (A) and final (B) rate pass must recompute (bytes
   * moved, rate limit or pause share changed, ring pace changed, added or finished).
   */
  private readonly senderDirtyA = new DirtyRows(256);
  private readonly senderDirtyB = new DirtyRows(256);
  /**
   * The unwindowed (A) tables equal the final (B) ones: the last final pass had the unwindowed
   * pass's inputs (no sender paced at its window, no held pause share re-balanced, no sender
   * marked between the two passes). Then the next recompute's two passes would compute the same
   * thing, so one pass keeps both sets of tables (see recompute).
   */
  private ratesMirrored = false;
  /** markSender calls so far, and their count when the last rate pass took its senders. */
  private senderMarks = 0;
  private senderMarksAtPass = 0;
  /** Whether the last final pass paced ring senders at their window (a switch re-rates every row). */
  private windowedB = false;
  /** 1 for a ring sender at its window as the unwindowed pass last saw it; how many are. */
  private fAtWindow = new Uint8Array(256);
  private atWindowCount = 0;
  /** Rows of scale-up senders (finished ones until the next compaction). */
  private scaleUpRows: number[] = [];
  /** Rows sending from each NIC (finished ones until the next compaction). */
  private nicRows: number[][];
  private nicShareBefore: Float64Array;
  private nicWasPaused: Int32Array;
  /** Group rows whose ring pace the next unwindowed pass recomputes; the group of each row. */
  private groupDirty = new Int32Array(64);
  private groupDirtyStamp = new Uint8Array(64);
  private groupDirtyCount = 0;
  private groupOfRow: (FlowGroup | undefined)[] = [];
  /**
   * Simulated µs each flow's bytes were last moved to. A rate event moves only the flows it
   * concerns: the ones due (fNextUs), the ones re-rated, and the hops of a draining port whose
   * backlogs set the shares; the rest keep moving linearly and are caught up when read.
   */
  private fAtUs = new Float64Array(256);
  /** Distinct ports on the live flows' paths, in first-use order (rebuilt with the levels). */
  private readonly pathPorts: Int32Array;
  private pathPortCount = 0;
  private readonly pathPortStamp: Int32Array;
  private pathStamp = 0;
  /**
   * (port, upstream, flow row) triples PFC pauses along, one per hop, flattened; a NIC upstream
   * is −nic − 1. Edges of flows finished since the last rebuild are skipped by their row.
   */
  private pauseEdges = new Int32Array(2048);
  private pauseEdgeCount = 0;
  /**
   * Each path port's pause edges (CSR over pauseEdgeAt, ascending offsets into pauseEdges), so
   * the pause pass walks only the edges of ports whose XOFF arrived, in the order of the list.
   */
  private readonly pauseEdgeFirst: Int32Array;
  private readonly pauseEdgeCountAt: Int32Array;
  private pauseEdgeAt = new Int32Array(1024);
  /** Scratch: the edge offsets one pause pass walks. */
  private pauseEdgeWalk = new Int32Array(1024);
  private xoffEdgesInOrder = true;
  /** Per port / NIC: the first pause edge (offset) that paused it in the running pause pass. */
  private readonly pauseFirstEdge: Int32Array;
  private readonly nicFirstEdge: Int32Array;
  private orderKeys = new Float64Array(64);
  /** Ports whose XOFF arrived (some may have seen their XON since; dropped when next walked). */
  private xoffSeenPorts: number[] = [];
  private readonly xoffListed: Uint8Array;
  private dirty = true;
  /**
   * Next event that changes some rate (a flow's own event, a queue emptying, a held queue's
   * re-balance), and next queue crossing (Kmin, Kmax, XOFF/XON threshold), which changes no
   * rate: a crossing alone moves the ports and re-plans crossings and congestion control; the
   * flows stay where they are (each is advanced from its fAtUs when next read or re-rated).
   */
  private nextRateEventUs = Infinity;
  private nextCrossingUs = Infinity;
  private nextCcUs = Infinity;
  private lastCcUs = 0;
  private timeCountersAtUs = 0;
  /** Other-tenant traffic as a fraction of every scale-out link (benign background). */
  backgroundLoad = 0;
  /** Simulated µs. */
  now = 0;
  private zeroSteps = 0;
  /** Events processed (for the benchmark). */
  events = 0;
  /**
   * Checks every incremental rate pass against a pass from scratch over the same inputs and
   * throws naming the first port left stale (tests; it makes every pass cost a full one).
   */
  verifyRatePasses = false;

  constructor(topology: Topology, nicCount: number, params: Partial<FabricParams> = {}) {
    this.p = { ...FABRIC_DEFAULTS, ...params };
    const ports = [...topology.ports.values()];
    const n = ports.length;
    this.names = ports.map((p) => p.name);
    this.names.forEach((name, i) => this.index.set(name, i));
    this.devices = [...new Set(ports.map((p) => p.device))];
    const devIndex = new Map(this.devices.map((d, i) => [d, i]));
    this.deviceOf = Int32Array.from(ports, (p) => devIndex.get(p.device)!);
    this.isScaleUp = Uint8Array.from(ports, (p) => (p.role === 'nvsw_gpu' ? 1 : 0));
    this.level = Uint8Array.from(ports, (p) => LEVEL_OF_ROLE[p.role]);
    this.nominal = Float64Array.from(ports, (p) => p.capacity_bps / 1e6);
    this.capacityFactor = new Float64Array(n).fill(1);
    this.operUp = new Uint8Array(n).fill(1);
    this.credit = ports.map(() => healthyCreditLink());
    this.creditSeverity = new Float64Array(n);
    this.cap = new Float64Array(n);
    this.capNow = new Float64Array(n);
    this.queue = new Float64Array(n);
    this.lam = new Float64Array(n);
    this.srv = new Float64Array(n);
    this.dq = new Float64Array(n);
    this.watermark = new Float64Array(n);
    this.txBytes = new Float64Array(n);
    this.backgroundTxBytes = new Float64Array(n);
    this.stretchPeak = new Float64Array(n);
    this.ecnMarked = new Float64Array(n);
    this.markIntegral = new Float64Array(n);
    this.markIntegralAtCc = new Float64Array(n);
    this.pfcTx = new Float64Array(n);
    this.pfcRx = new Float64Array(n);
    this.pauseUs = new Float64Array(n);
    this.pauseTxUs = new Float64Array(n);
    this.linkErrors = new Float64Array(n);
    this.creditStallUs = new Float64Array(n);
    this.replays = new Float64Array(n);
    this.carrierChanges = new Float64Array(n);
    this.histogram = new Float64Array(n * this.nBins);
    this.histAccountedUs = new Float64Array(n);
    this.forcedXoff = new Uint8Array(n);
    this.forcedNicPause = new Uint8Array(nicCount);
    this.stormWas = new Uint8Array(n);
    this.xoff = new Uint8Array(n);
    this.xoffSeen = new Uint8Array(n);
    this.xoffListed = new Uint8Array(n);
    this.pauseEdgeFirst = new Int32Array(n);
    this.pauseEdgeCountAt = new Int32Array(n);
    this.pauseFirstEdge = new Int32Array(n);
    this.xoffSince = new Float64Array(n);
    this.pauseShare = new Float64Array(n);
    this.pausedSince = new Float64Array(n);
    this.nicPauseShare = new Float64Array(nicCount);
    this.heldShare = new Float64Array(n);
    this.heldQueueAt = new Float64Array(n);
    this.pauseStamp = new Int32Array(n);
    this.peerNic = Int32Array.from(ports, (p) => {
      const parsed = parseName(p.peer);
      return parsed?.kind === 'nic' ? parsed.node * topology.spec.gpus_per_node + parsed.nic : -1;
    });
    this.nicPort = new Int32Array(nicCount).fill(-1);
    this.peerNic.forEach((k, p) => {
      if (k >= 0) this.nicPort[k] = p;
    });
    this.peerPort = Int32Array.from(ports, (p) => this.index.get(p.peer) ?? -1);
    this.devUsage = new Float64Array(this.devices.length);
    this.devSlope = new Float64Array(this.devices.length);
    this.activePorts = new Int32Array(n);
    this.nextActive = new Int32Array(n);
    this.activeStamp = new Int32Array(n);
    this.pausedA = new Int32Array(n);
    this.pausedB = new Int32Array(n);
    this.pausedPorts = this.pausedA;
    this.wasPaused = new Int32Array(n);
    this.nicPausedList = new Int32Array(nicCount);
    this.nicFirstEdge = new Int32Array(nicCount);
    this.nicRows = Array.from({ length: nicCount }, () => []);
    this.nicShareBefore = new Float64Array(nicCount);
    this.nicWasPaused = new Int32Array(nicCount);
    this.markedStamp = new Uint8Array(n);
    this.markedPorts = new Int32Array(n);
    this.markShare = new Float64Array(n);
    this.pathPorts = new Int32Array(n);
    this.pathPortStamp = new Int32Array(n);
    this.lamA = new Float64Array(n);
    this.capNowA = new Float64Array(n);
    this.queuedA = new Uint8Array(n).fill(255);
    this.queuedB = new Uint8Array(n).fill(255);
    this.portsChanged = new Int32Array(n);
    this.portChangedStamp = new Uint8Array(n);
    this.dirtyStamp = new Int32Array(n);
    this.dirtyAtLevel = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
    this.portHopFirst = new Int32Array(n);
    this.portHopCount = new Int32Array(n);
    this.sendA.fill(NaN);
    this.sendB.fill(NaN);
    this.refreshCapacities();
  }

  portIndex(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`unknown port ${name}`);
    return i;
  }

  /** The part of a scale-out link's rate (bytes/µs) that other tenants' background traffic leaves free. */
  availableShare(lineRate: number): number {
    return lineRate * (1 - this.backgroundLoad);
  }

  /** A port's nominal rate, bytes/µs. */
  nominalRate(p: number): number {
    return this.nominal[p]!;
  }

  /** The leaf downlink port a NIC hangs off. */
  nicDownlink(nic: number): number {
    return this.nicPort[nic]!;
  }

  addFlow(
    pathNames: readonly string[] | Int32Array,
    srcNic: number,
    size: number,
    lineRate: number,
    opts: { group?: FlowGroup; window?: number; external?: boolean; weight?: number; tag?: unknown } = {},
  ): Flow {
    const weight = opts.weight ?? 1;
    if (!Number.isInteger(weight) || weight < 1) throw new InvalidArgumentError(`a flow's weight must be a whole number of senders, at least 1 (got ${weight})`, 'addFlow weight');
    const path = pathNames instanceof Int32Array ? pathNames : Int32Array.from(pathNames, (p) => this.portIndex(p));
    const hops = path.length;
    const scaleUp = this.isScaleUp[path[0]!] === 1;
    const hopAtLevel = new Int8Array(3).fill(-1);
    for (let h = 0; h < hops; h++) hopAtLevel[this.level[path[h]!]!] = h;
    const flow: Flow = {
      id: this.nextFlowId++,
      startUs: this.now,
      path,
      hopAtLevel,
      srcNic,
      external: opts.external ?? false,
      scaleUp,
      size,
      lineRate,
      weight,
      slot: this.flows.length,
      window: opts.window ?? Infinity,
      group: opts.group,
      cc: scaleUp ? undefined : newDcqcnState(lineRate),
      done: false,
      tag: opts.tag,
    };
    opts.group?.members.push(flow);
    this.appendFlowRow(flow, this.appendHops(path, hopAtLevel, flow.slot, weight));
    this.flows.push(flow);
    this.dirty = true;
    return flow;
  }

  /** Removes a flow (an external sender whose fault ended); its queued bytes are dropped with it. */
  removeFlow(flow: Flow): void {
    const i = this.flows.indexOf(flow);
    if (i < 0) return;
    this.syncFlows();
    for (let h = 0; h < flow.path.length; h++) {
      const p = flow.path[h]!;
      this.queue[p] = Math.max(0, this.queue[p]! - this.hopBacklog[this.fBase[flow.slot]! + h]! * flow.weight);
    }
    this.retire(flow);
    this.compactIfSparse();
    this.dirty = true;
  }

  /** Fault state changed (capacity, oper state, credits, storms): recompute at the next step. */
  faultsChanged(): void {
    this.accrueTimeCounters();
    this.refreshCapacities();
    // A storm's first PAUSE goes out when it starts; its refresh frames are counted as it lasts.
    for (let p = 0; p < this.forcedXoff.length; p++) {
      if (this.forcedXoff[p] === this.stormWas[p]) continue;
      if (this.forcedXoff[p]) {
        if (!this.xoff[p]) {
          this.pfcTx[p]! += 1;
          this.xoffSince[p] = this.now;
        }
      } else if (!this.xoff[p]) this.countPauseRefresh(p, this.now);
      this.stormWas[p] = this.forcedXoff[p]!;
    }
    this.forcedPorts = [];
    for (let p = 0; p < this.forcedXoff.length; p++) if (this.forcedXoff[p]) this.forcedPorts.push(p);
    this.forcedNics = [];
    for (let k = 0; k < this.forcedNicPause.length; k++) if (this.forcedNicPause[k]) this.forcedNics.push(k);
    this.dirty = true;
  }

  private readonly stormWas: Uint8Array;

  private refreshCapacities(): void {
    for (let p = 0; p < this.cap.length; p++) {
      if (!this.operUp[p]) this.cap[p] = 0;
      else if (this.isScaleUp[p]) this.cap[p] = Math.min(this.nominal[p]! * this.capacityFactor[p]!, creditBoundBytesPerUs(this.credit[p]!));
      else this.cap[p] = this.nominal[p]! * this.capacityFactor[p]! * (1 - this.backgroundLoad);
    }
  }

  /**
   * Runs events up to `horizonUs` or until flows complete, whichever is first. Returns the flows
   * that completed at `this.now` (empty when the horizon was reached).
   */
  runUntil(horizonUs: number): Flow[] {
    for (;;) {
      if (this.dirty) this.recompute();
      let te = Math.min(this.nextRateEventUs, this.nextCrossingUs, this.nextCcUs, this.pendingPause.length ? this.pendingPause[0]!.t : Infinity);
      // Rounding can leave a level a hair short of its crossing; never stall on it.
      if (te <= this.now + 1e-9) {
        if (++this.zeroSteps > 8) te = this.now + 1e-3;
      } else this.zeroSteps = 0;
      if (te > horizonUs) {
        this.advancePorts(horizonUs - this.now);
        this.now = horizonUs;
        return [];
      }
      const dt = te - this.now;
      // The flows move inside processEvents, in the same pass that checks them.
      this.advancePorts(dt);
      this.now = te;
      this.events++;
      // A flow's event, an emptied queue or a re-balance changes some rate: recompute.
      if (te >= this.nextRateEventUs) this.dirty = true;
      const done = this.processEvents();
      if (done.length > 0) return done;
      if (!this.dirty) this.replanCrossings();
    }
  }

  /** True when nothing moves: no flow, no queue, no pending pause. Then time skips for free. */
  quiet(): boolean {
    return this.flows.length === this.deadRows && this.activeCount === 0 && this.pendingPause.length === 0 && this.pausedCount === 0;
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * Handles what is due at `now`, after the ports moved on. The flows due about now move and
   * are checked only when some rate is to change, i.e. when the fabric is dirty.
   */
  private processEvents(): Flow[] {
    const t = this.now;
    // Queues that reached a level: snap tiny residues, decide XOFF/XON.
    const active = this.activePorts;
    for (let i = 0; i < this.activeCount; i++) {
      const p = active[i]!;
      if (this.isScaleUp[p]) continue;
      const draining = this.dq[p]! < 0 && this.queue[p]! <= -this.dq[p]! * this.p.eventBatchUs;
      if ((this.queue[p]! < EPS_BYTES && this.dq[p]! <= 0) || draining) {
        // An emptied queue (or one emptying within the batch window: its hops' last bytes go on
        // below) serves at its arrival rate from now on.
        if (this.queue[p]! !== 0 || this.dq[p]! < 0) this.dirty = true;
        this.queue[p] = 0;
      }
      const q = this.queue[p]!;
      // An empty queue sends no XOFF, and one not pausing sends no XON.
      if (q === 0 && !this.xoff[p]) continue;
      const thr = this.xoffThreshold(p);
      // How far the queue closes on its threshold within the batch window (signed).
      const closing = this.p.eventBatchUs * (this.dq[p]! + this.p.pfcAlpha * this.devSlope[this.deviceOf[p]!]!);
      if (!this.xoff[p] && q >= thr - EPS_BYTES - Math.max(0, closing) && q > 0) {
        this.xoff[p] = 1;
        this.xoffSince[p] = t;
        this.pfcTx[p]! += 1;
        this.schedulePause(t + this.p.linkDelayUs, p, true);
      } else if (this.xoff[p] && !this.holding(p) && (q <= thr - this.p.pfcXonOffsetBytes + EPS_BYTES + Math.max(0, -closing) || q === 0)) {
        this.countPauseRefresh(p, t);
        this.xoff[p] = 0;
        this.schedulePause(t + this.p.linkDelayUs, p, false);
      }
    }
    while (this.pendingPause.length && this.pendingPause[0]!.t <= t + this.p.eventBatchUs + 1e-9) {
      const e = this.pendingPause.shift()!;
      if (this.xoffSeen[e.port] !== (e.on ? 1 : 0)) this.xoffSeenCount += e.on ? 1 : -1;
      this.xoffSeen[e.port] = e.on ? 1 : 0;
      this.markExternalSendersAt(e.port);
      if (e.on && !this.xoffListed[e.port]) {
        this.xoffListed[e.port] = 1;
        this.xoffSeenPorts.push(e.port);
      }
      if (e.on) {
        // First guess of the equilibrium: pause as much as the arrivals exceed the drain.
        const c = this.cap[e.port]! * (1 - this.pauseShare[e.port]!);
        const l = this.lam[e.port]!;
        this.heldShare[e.port] = l > c ? Math.min(1 - MIN_PASS, 1 - c / l) : 0;
        this.heldQueueAt[e.port] = this.queue[e.port]!;
      }
      this.dirty = true;
    }
    // Senders that finished injecting or filled their window change rates; flows whose last
    // bytes arrive within the batch window complete together.
    let done: Flow[] | undefined;
    const { completionBatchUs, completionBatchShare, eventBatchUs } = this.p;
    const hopIn = this.hopIn;
    const hopOut = this.hopOut;
    const hopBacklog = this.hopBacklog;
    const { fBase, fHops, fRemaining, fDelivered, fSend, fSize, fWindow, fStartUs, hopPort } = this;
    // Congestion control reads the bytes sent: the flows move first.
    const ccDue = this.nextCcUs <= t + 1e-9;
    if (ccDue) this.dirty = true;
    if (!this.dirty) return NO_FLOWS;
    const { fNextUs } = this;
    const count = this.collectCandidates(t);
    const candidates = this.candidates;
    for (let ci = 0; ci < count; ci++) {
      const fi = candidates[ci]!;
      // Only a flow with an event of its own within the batch window has anything to check
      // (its sender's end, a backlog emptying, its window or its delivery); one without any
      // planned event is checked too, in case it stopped short of done.
      const next = fNextUs[fi]!;
      if (next > t + Math.max(completionBatchUs, eventBatchUs) + 1e-9 && next !== Infinity) {
        if (next > t + completionBatchShare * (t - fStartUs[fi]!) + 1e-9) continue;
      }
      const batchUs = Math.max(completionBatchUs, completionBatchShare * (t - fStartUs[fi]!));
      this.syncFlow(fi);
      const hops = fHops[fi]!;
      const base = fBase[fi]!;
      for (let e = base; e < base + hops; e++) {
        const b = hopBacklog[e]!;
        if (b >= EPS_BYTES) {
          // Bytes queued at a queue that is empty (snapped above) or that drain within the batch
          // window go on to the receiver now, instead of costing an event of their own.
          const p = hopPort[e]!;
          const net = hopIn[e]! - hopOut[e]!;
          if (this.isScaleUp[p] || (this.queue[p]! > 0 && !(net < 0 && b <= -net * eventBatchUs))) continue;
          this.queue[p] = Math.max(0, this.queue[p]! - b * this.hopWeight[e]!);
          hopBacklog[e] = 0;
          this.deliverAtOnce(fi, e - base, b);
          this.dirty = true;
        } else if (b > 0 && hopIn[e]! <= hopOut[e]!) hopBacklog[e] = 0;
        // A hop whose queued bytes are gone loses its share of the spare service.
        if (hopIn[e]! < hopOut[e]!) this.portChanged(hopPort[e]!);
      }
      let remaining = fRemaining[fi]!;
      const send = fSend[fi]!;
      if (remaining > 0 && remaining < EPS_BYTES) {
        remaining = fRemaining[fi] = 0;
        this.markSenderLive(fi);
        this.dirty = true;
      } else if (remaining > 0 && send > 0 && remaining <= send * Math.max(eventBatchUs, batchUs)) {
        // The sender's last bytes (due within the batch window) go out now, straight through.
        this.fCcSent[fi]! += remaining;
        this.deliverAtOnce(fi, 0, remaining);
        remaining = fRemaining[fi] = 0;
        this.markSenderLive(fi);
        this.dirty = true;
      }
      const size = fSize[fi]!;
      const delivered = fDelivered[fi]!;
      if (send > 0 && remaining <= send * 1e-9) this.dirty = true;
      if (fWindow[fi] !== Infinity && size - remaining - delivered >= fWindow[fi]! - EPS_BYTES) this.dirty = true;
      const last = hopOut[base + hops - 1]!;
      const left = size - delivered;
      // A sender still injecting its last bytes counts as finished when they go out in the window.
      const injected = remaining === 0 || (send > 0 && remaining / send <= batchUs);
      if (left < 1 || (injected && last > 0 && left / last <= batchUs && this.backlogOnlyAtLast(base, hops))) {
        (done ??= []).push(this.flows[fi]!);
      }
    }
    if (ccDue) this.runCongestionControl();
    if (!done) return NO_FLOWS;
    for (const f of done) {
      // Bytes delivered a fraction of a µs early: the receiver had them all.
      const last = f.path.length - 1;
      const base = fBase[f.slot]!;
      for (let h = 0; h < f.path.length; h++) {
        const p = f.path[h]!;
        const b = hopBacklog[base + h]! * f.weight;
        this.queue[p] = Math.max(0, this.queue[p]! - b);
        if (h === last) this.txBytes[p]! += b;
        hopBacklog[base + h] = 0;
      }
      this.retire(f);
    }
    this.compactIfSparse();
    this.dirty = true;
    return done;
  }

  /**
   * Fills `candidates` with the live rows processEvents may have to check at t, in row order:
   * every row whose next event falls within the widest batch window any live flow has (from
   * the heap), rows without a planned event, and external senders (whose batch window grows
   * with their long lives). The caller applies each row's own window.
   */
  private collectCandidates(t: number): number {
    const { completionBatchUs, completionBatchShare, eventBatchUs } = this.p;
    const n = this.flows.length;
    if (this.candidates.length < n + this.externalRows.length) this.candidates = new Int32Array(2 * (n + this.externalRows.length));
    const { fDead, fExternal, fNextUs, candidates } = this;
    while (this.firstLiveRow < n && fDead[this.firstLiveRow]) this.firstLiveRow++;
    let oldest = this.firstLiveRow;
    while (oldest < n && (fDead[oldest] || fExternal[oldest])) oldest++;
    const share = oldest < n ? completionBatchShare * (t - this.fStartUs[oldest]!) : 0;
    let count = this.nextHeap.collectAtMost(t + Math.max(completionBatchUs, eventBatchUs, share) + 1e-9, candidates, 0);
    // (Indexed loops, and lengths set only when rows drop out: this runs at every event.)
    const noEventRows = this.noEventRows;
    let kept = 0;
    for (let i = 0; i < noEventRows.length; i++) {
      const fi = noEventRows[i]!;
      if (fDead[fi] || fNextUs[fi] !== Infinity) this.noEventFlag[fi] = 0;
      else {
        noEventRows[kept++] = fi;
        candidates[count++] = fi;
      }
    }
    if (kept !== noEventRows.length) noEventRows.length = kept;
    const externalRows = this.externalRows;
    kept = 0;
    for (let i = 0; i < externalRows.length; i++) {
      const fi = externalRows[i]!;
      if (fDead[fi]) continue;
      externalRows[kept++] = fi;
      candidates[count++] = fi;
    }
    if (kept !== externalRows.length) externalRows.length = kept;
    if (count < 2) return count;
    sortRows(candidates, count);
    // An external sender may have come from the heap too.
    let w = 1;
    for (let i = 1; i < count; i++) if (candidates[i] !== candidates[w - 1]) candidates[w++] = candidates[i]!;
    return w;
  }

  /**
   * Moves `bytes` of flow row fi from hop `fromHop` (the sender's, for bytes not yet injected)
   * straight to the receiver: they were due within the batch window. Each port on the way counts
   * them as sent.
   */
  private deliverAtOnce(fi: number, fromHop: number, bytes: number): void {
    const base = this.fBase[fi]!;
    for (let e = base + fromHop; e < base + this.fHops[fi]!; e++) this.txBytes[this.hopPort[e]!]! += bytes * this.hopWeight[e]!;
    this.fDelivered[fi] = Math.min(this.fSize[fi]!, this.fDelivered[fi]! + bytes);
    this.markSender(fi);
  }

  /** Queues a PAUSE/RESUME arrival, keeping the list in (time, port) order. */
  private schedulePause(t: number, port: number, on: boolean): void {
    const list = this.pendingPause;
    let i = list.length;
    while (i > 0 && (list[i - 1]!.t > t || (list[i - 1]!.t === t && list[i - 1]!.port > port))) i--;
    list.splice(i, 0, { t, port, on });
  }

  private backlogOnlyAtLast(base: number, hops: number): boolean {
    for (let e = base; e < base + hops - 1; e++) if (this.hopBacklog[e]! > EPS_BYTES) return false;
    return true;
  }

  /**
   * Marks a flow finished: its row stays in the tables with zero rates (so the per-event passes
   * see nothing of it) until the next compaction, which then moves many rows at once.
   */
  private retire(f: Flow): void {
    const row = f.slot;
    const base = this.fBase[row]!;
    for (let e = base; e < base + f.path.length; e++) {
      this.hopIn[e] = 0;
      this.hopOut[e] = 0;
      this.hopInA[e] = 0;
      this.hopOutA[e] = 0;
      this.hopBacklog[e] = 0;
      this.portChanged(this.hopPort[e]!);
    }
    this.fDelivered[row] = f.size;
    this.fRemaining[row] = 0;
    this.fSend[row] = 0;
    this.fDead[row] = 1;
    this.nextHeap.remove(row);
    this.markSenderLive(row);
    f.done = true;
    this.deadRows++;
    // Its hops stay in the level and port lists until the next rebuild: with zero rates they
    // add nothing to any sum, and its pause edges are skipped.
    const g = f.group;
    // A group's row is free again once its last member is gone.
    if (g && g.owner === this && g.slot !== undefined && --this.groupLive[g.slot]! === 0) {
      this.freeGroupRows.push(g.slot);
      g.slot = undefined;
    }
  }

  /** Notes that port p's hops changed (one added, finished or emptied): both rate passes recompute it. */
  private portChanged(p: number): void {
    if (this.portChangedStamp[p]) return;
    this.portChangedStamp[p] = 1;
    this.portsChanged[this.portsChangedCount++] = p;
  }

  private compactIfSparse(): void {
    if (2 * this.deadRows > this.flows.length) this.compactFlows();
  }

  /** Drops finished flows, moving the hops of the rest down so the tables stay in flow order. */
  private compactFlows(): void {
    let w = 0;
    let hw = 0;
    for (let r = 0; r < this.flows.length; r++) {
      const f = this.flows[r]!;
      if (f.done) continue;
      const hops = f.path.length;
      const base = this.fBase[r]!;
      if (base !== hw) {
        for (let h = 0; h < hops; h++) {
          this.hopPort[hw + h] = this.hopPort[base + h]!;
          this.hopIn[hw + h] = this.hopIn[base + h]!;
          this.hopOut[hw + h] = this.hopOut[base + h]!;
          this.hopBacklog[hw + h] = this.hopBacklog[base + h]!;
          this.hopLast[hw + h] = this.hopLast[base + h]!;
          this.hopLevel[hw + h] = this.hopLevel[base + h]!;
          this.hopWeight[hw + h] = this.hopWeight[base + h]!;
          this.hopInA[hw + h] = this.hopInA[base + h]!;
          this.hopRow[hw + h] = w;
          this.hopOutA[hw + h] = this.hopOutA[base + h]!;
        }
      }
      if (r !== w) {
        this.moveFlowRow(r, w);
        f.slot = w;
      }
      this.fBase[w] = hw;
      this.flows[w++] = f;
      hw += hops;
    }
    this.flows.length = w;
    this.hopCount = hw;
    this.deadRows = 0;
    this.reindexRows();
    this.levelsStale = true;
    this.allRatesStale = true;
    this.ccActiveStale = true;
  }

  /** Rebuilds what is kept by row (next-event heap, row lists) after a compaction moved the rows. */
  private reindexRows(): void {
    const n = this.flows.length;
    const rows = this.candidates;
    this.noEventRows = [];
    this.externalRows = [];
    this.scaleUpRows = [];
    for (const list of this.nicRows) list.length = 0;
    // Both rate passes re-rate every row after a compaction: the dirty lists start empty.
    this.senderDirtyA.clear();
    this.senderDirtyB.clear();
    for (let r = 0; r < n; r++) {
      rows[r] = r;
      this.noEventFlag[r] = 0;
      if (this.fNextUs[r] === Infinity) this.noteNoEvent(r);
      if (this.fExternal[r]) this.externalRows.push(r);
      if (this.fScaleUp[r]) this.scaleUpRows.push(r);
      if (this.fSrcNic[r]! >= 0) this.nicRows[this.fSrcNic[r]!]!.push(r);
    }
    this.nextHeap.rebuild(rows, n);
    this.firstLiveRow = 0;
  }

  private noteNoEvent(row: number): void {
    if (this.noEventFlag[row]) return;
    this.noEventFlag[row] = 1;
    this.noEventRows.push(row);
  }

  /** Appends a new flow's hops to the tables (zero rates and backlog); returns its base. */
  private appendHops(path: Int32Array, hopAtLevel: Int8Array, row: number, weight: number): number {
    const base = this.hopCount;
    const need = base + path.length;
    if (need > this.hopPort.length) {
      const size = Math.max(need, 2 * this.hopPort.length);
      const grow = <T extends Float64Array | Int32Array | Uint8Array | Int8Array>(a: T, make: (n: number) => T): T => {
        const b = make(size);
        b.set(a.subarray(0, base) as never);
        return b;
      };
      this.hopPort = grow(this.hopPort, (n) => new Int32Array(n));
      this.hopIn = grow(this.hopIn, (n) => new Float64Array(n));
      this.hopOut = grow(this.hopOut, (n) => new Float64Array(n));
      this.hopBacklog = grow(this.hopBacklog, (n) => new Float64Array(n));
      this.hopLast = grow(this.hopLast, (n) => new Uint8Array(n));
      this.hopLevel = grow(this.hopLevel, (n) => new Int8Array(n));
      this.hopWeight = grow(this.hopWeight, (n) => new Float64Array(n));
      this.hopInA = grow(this.hopInA, (n) => new Float64Array(n));
      this.hopOutA = grow(this.hopOutA, (n) => new Float64Array(n));
      this.hopRow = grow(this.hopRow, (n) => new Int32Array(n));
    }
    for (let h = 0; h < path.length; h++) {
      const e = base + h;
      this.hopPort[e] = path[h]!;
      this.hopIn[e] = 0;
      this.hopOut[e] = 0;
      this.hopBacklog[e] = 0;
      this.hopInA[e] = 0;
      this.hopOutA[e] = 0;
      this.hopRow[e] = row;
      this.hopWeight[e] = weight;
      this.portChanged(path[h]!);
      this.hopLast[e] = h === path.length - 1 ? 1 : 0;
      // The rate pass visits one hop per level (the last, should a path repeat a level).
      const L = this.level[path[h]!]!;
      this.hopLevel[e] = hopAtLevel[L] === h ? L : -1;
    }
    this.hopCount = need;
    this.levelsStale = true;
    return base;
  }

  /** Moves flow row r to row w (w < r) in every per-flow table but fBase (set by the caller). */
  private moveFlowRow(r: number, w: number): void {
    this.fHops[w] = this.fHops[r]!;
    this.fRemaining[w] = this.fRemaining[r]!;
    this.fDelivered[w] = this.fDelivered[r]!;
    this.fSend[w] = this.fSend[r]!;
    this.fCcSent[w] = this.fCcSent[r]!;
    this.fSize[w] = this.fSize[r]!;
    this.fWindow[w] = this.fWindow[r]!;
    this.fStartUs[w] = this.fStartUs[r]!;
    this.fRateCap[w] = this.fRateCap[r]!;
    this.fSrcNic[w] = this.fSrcNic[r]!;
    this.fExternal[w] = this.fExternal[r]!;
    this.fScaleUp[w] = this.fScaleUp[r]!;
    this.fGroup[w] = this.fGroup[r]!;
    this.fDead[w] = this.fDead[r]!;
    this.sendA[w] = this.sendA[r]!;
    this.sendB[w] = this.sendB[r]!;
    this.fNextUs[w] = this.fNextUs[r]!;
    this.fRateStamp[w] = this.fRateStamp[r]!;
    this.noEventFlag[w] = 0;
    this.fAtUs[w] = this.fAtUs[r]!;
  }

  /** Fills row `flow.slot` (the end of the tables) for a new flow whose hops start at `base`. */
  private appendFlowRow(flow: Flow, base: number): void {
    const row = flow.slot;
    if (row >= this.fBase.length) {
      const size = 2 * this.fBase.length;
      const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(size);
        b.set(a as never);
        return b;
      };
      this.fBase = grow(this.fBase);
      this.fHops = grow(this.fHops);
      this.fRemaining = grow(this.fRemaining);
      this.fDelivered = grow(this.fDelivered);
      this.fSend = grow(this.fSend);
      this.fCcSent = grow(this.fCcSent);
      this.fSize = grow(this.fSize);
      this.fWindow = grow(this.fWindow);
      this.fStartUs = grow(this.fStartUs);
      this.fRateCap = grow(this.fRateCap);
      this.fSrcNic = grow(this.fSrcNic);
      this.fExternal = grow(this.fExternal);
      this.fScaleUp = grow(this.fScaleUp);
      this.fGroup = grow(this.fGroup);
      this.fDead = grow(this.fDead);
      this.sendA = grow(this.sendA);
      this.sendB = grow(this.sendB);
      this.fNextUs = grow(this.fNextUs);
      this.nextHeap.keys = this.fNextUs;
      this.reRated = grow(this.reRated);
      this.noEventFlag = grow(this.noEventFlag);
      this.candidates = grow(this.candidates);
      this.senderDirtyA.grow(size);
      this.senderDirtyB.grow(size);
      this.fAtWindow = grow(this.fAtWindow);
      this.fRateStamp = grow(this.fRateStamp);
      this.fAtUs = grow(this.fAtUs);
    }
    this.fBase[row] = base;
    this.fHops[row] = flow.path.length;
    this.fRemaining[row] = flow.size;
    this.fDelivered[row] = 0;
    this.fSend[row] = 0;
    this.fCcSent[row] = 0;
    this.fSize[row] = flow.size;
    this.fWindow[row] = flow.window;
    this.fStartUs[row] = flow.startUs;
    this.fRateCap[row] = flow.cc ? Math.min(flow.cc.rate, flow.lineRate) : flow.lineRate;
    this.fSrcNic[row] = flow.srcNic;
    this.fExternal[row] = flow.external ? 1 : 0;
    this.fScaleUp[row] = flow.scaleUp ? 1 : 0;
    this.fDead[row] = 0;
    this.sendA[row] = NaN;
    this.sendB[row] = NaN;
    this.fNextUs[row] = -Infinity;
    this.nextHeap.update(row);
    if (flow.external) this.externalRows.push(row);
    if (flow.scaleUp) this.scaleUpRows.push(row);
    if (flow.srcNic >= 0) this.nicRows[flow.srcNic]!.push(row);
    this.fAtWindow[row] = 0;
    this.fAtUs[row] = this.now;
    const g = flow.group;
    if (g) {
      if (g.owner !== this || g.slot === undefined) {
        g.owner = this;
        g.slot = this.freeGroupRows.pop() ?? this.groupCount++;
        if (g.slot >= this.groupCap.length) {
          this.groupCap = grownArray(this.groupCap, 2 * this.groupCap.length);
          this.groupLive = grownArray(this.groupLive, 2 * this.groupLive.length);
          this.groupDirty = grownArray(this.groupDirty, 2 * this.groupDirty.length);
          this.groupDirtyStamp = grownArray(this.groupDirtyStamp, 2 * this.groupDirtyStamp.length);
          this.groupRescan = grownArray(this.groupRescan, 2 * this.groupRescan.length);
          this.groupUndercut = grownArray(this.groupUndercut, 2 * this.groupUndercut.length);
          this.groupUndercutCount = grownArray(this.groupUndercutCount, 2 * this.groupUndercutCount.length);
          this.groupAtPace = grownArray(this.groupAtPace, 2 * this.groupAtPace.length);
          this.groupAtPaceDelta = grownArray(this.groupAtPaceDelta, 2 * this.groupAtPaceDelta.length);
        }
      }
      this.groupLive[g.slot]!++;
    }
    this.fGroup[row] = g ? g.slot! : -1;
    if (g) this.groupOfRow[g.slot!] = g;
    this.markSenderLive(row);
  }

  /** Lists each level's hop entries in flow order (the order the rate pass sums arrivals in). */
  private rebuildLevels(): void {
    this.levelsStale = false;
    for (let L = 0; L < 3; L++) {
      if (this.levelHops[L]!.length < this.hopCount) this.levelHops[L] = new Int32Array(this.hopPort.length);
      this.levelCount[L] = 0;
    }
    // Also the ports on some path, in first-use order, and the (port, upstream) pause edges.
    const stamp = ++this.pathStamp;
    for (let i = 0; i < this.pathPortCount; i++) this.portHopCount[this.pathPorts[i]!] = 0;
    this.pathPortCount = 0;
    this.pauseEdgeCount = 0;
    if (this.pauseEdges.length < 3 * this.hopCount) this.pauseEdges = new Int32Array(3 * this.hopPort.length);
    const { hopPort, hopLevel, fBase, fHops, fSrcNic, fDead, levelHops, levelCount, pathPorts, pathPortStamp, pauseEdges } = this;
    const n = this.flows.length;
    for (let fi = 0; fi < n; fi++) {
      if (fDead[fi]) continue;
      const base = fBase[fi]!;
      const end = base + fHops[fi]!;
      const nic = fSrcNic[fi]!;
      for (let e = base; e < end; e++) {
        const L = hopLevel[e]!;
        if (L >= 0) levelHops[L]![levelCount[L]!++] = e;
        const p = hopPort[e]!;
        if (pathPortStamp[p] !== stamp) {
          pathPortStamp[p] = stamp;
          pathPorts[this.pathPortCount++] = p;
        }
        // Upstream of a hop: the previous egress port, or the sending NIC (encoded −nic − 1).
        if (e === base && nic < 0) continue;
        pauseEdges[this.pauseEdgeCount++] = p;
        pauseEdges[this.pauseEdgeCount++] = e > base ? hopPort[e - 1]! : -nic - 1;
        pauseEdges[this.pauseEdgeCount++] = fi;
      }
    }
    this.indexPauseEdges();
    // Each port's rate-pass hops, in the order the full pass sums them (level list order).
    const { portHopFirst, portHopCount } = this;
    let total = 0;
    for (let L = 0; L < 3; L++) {
      const list = levelHops[L]!;
      for (let i = 0; i < levelCount[L]!; i++) portHopCount[hopPort[list[i]!]!]!++;
      total += levelCount[L]!;
    }
    if (this.portHops.length < total) this.portHops = new Int32Array(this.hopPort.length);
    let first = 0;
    for (let i = 0; i < this.pathPortCount; i++) {
      const p = pathPorts[i]!;
      portHopFirst[p] = first;
      first += portHopCount[p]!;
      portHopCount[p] = 0;
    }
    const portHops = this.portHops;
    for (let L = 0; L < 3; L++) {
      const list = levelHops[L]!;
      for (let i = 0; i < levelCount[L]!; i++) {
        const e = list[i]!;
        const p = hopPort[e]!;
        portHops[portHopFirst[p]! + portHopCount[p]!++] = e;
      }
    }
  }


  /**
   * One congestion-control update, closed form over the time since the previous one (see
   * scheduleCongestionControl for when updates come).
   */
  private runCongestionControl(): void {
    this.syncFlows();
    const dt = this.now - this.lastCcUs;
    this.lastCcUs = this.now;
    if (dt <= 0) return;
    const marked = this.markedPorts;
    const anyMarks = this.markedCount > 0;
    // Each marking port's share of the interval marked, read per hop below (zero elsewhere).
    const markShare = this.markShare;
    for (let i = 0; i < this.markedCount; i++) {
      const p = marked[i]!;
      const m = this.markIntegral[p]! - this.markIntegralAtCc[p]!;
      if (m > 0) markShare[p] = m / dt;
    }
    const { fBase, fHops, hopPort } = this;
    for (let fi = 0; fi < this.flows.length; fi++) {
      const f = this.flows[fi]!;
      const cc = f.cc;
      if (!cc || f.done) continue;
      let mark = 0;
      if (anyMarks) {
        let pass = 1;
        const base = fBase[fi]!;
        for (let e = base; e < base + fHops[fi]!; e++) {
          const share = markShare[hopPort[e]!]!;
          if (share > 0) pass *= 1 - share;
        }
        mark = 1 - pass;
      }
      if (mark > 0 || cc.active) {
        advanceDcqcn(cc, f.lineRate, mark, this.fCcSent[fi]!, dt);
        const cap = Math.min(cc.rate, f.lineRate);
        if (cap !== this.fRateCap[fi]) {
          this.fRateCap[fi] = cap;
          this.markSender(fi);
        }
      }
      this.fCcSent[fi] = 0;
    }
    for (let i = 0; i < this.markedCount; i++) {
      const p = marked[i]!;
      this.markIntegralAtCc[p] = this.markIntegral[p]!;
      this.markedStamp[p] = 0;
      markShare[p] = 0;
    }
    this.markedCount = 0;
    this.ccActiveStale = true;
  }

  /**
   * Rows of the flows whose sender is under congestion control (cc.active), in row order. Only
   * an update (runCongestionControl) changes that state and only a compaction moves rows, so the
   * list is rebuilt after either, not on every scheduling decision; finished rows are skipped
   * by the reader.
   */
  private ccActiveRows(): Int32Array {
    if (!this.ccActiveStale) return this.ccActive;
    this.ccActiveStale = false;
    if (this.ccActive.length < this.flows.length) this.ccActive = new Int32Array(this.fBase.length);
    this.ccActiveCount = 0;
    for (let fi = 0; fi < this.flows.length; fi++) if (this.flows[fi]!.cc?.active) this.ccActive[this.ccActiveCount++] = fi;
    return this.ccActive;
  }

  /**
   * Decides when congestion control runs next; returns true when it ran an update right now.
   * Marking (a queue above Kmin, or reaching it) needs the regular interval, on a fixed grid, or
   * shorter ones while a marking queue rises fast (ccMarkingRiseBytes).
   * Recovery without marks only raises rates, in closed form over any interval (dcqcn.ts), so
   * it is updated less often; a queue that reaches Kmin meanwhile ends the recovery window at
   * that instant. No sender under congestion control and nothing marking: no updates at all.
   */
  private scheduleCongestionControl(): boolean {
    const { ecnKminBytes, ccIntervalUs } = this.p;
    let marking = false;
    let rise = 0;
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      if (this.isScaleUp[p]) continue;
      const q = this.queue[p]!;
      const dq = this.dq[p]!;
      if (q > ecnKminBytes + EPS_BYTES || (dq > 0 && q >= ecnKminBytes - EPS_BYTES - this.p.eventBatchUs * dq)) {
        marking = true;
        rise = Math.max(rise, this.dq[p]!);
      }
    }
    const wasOff = this.nextCcUs === Infinity;
    if (marking) {
      let ran = false;
      const interval = Math.min(ccIntervalUs, Math.max(this.p.ccFirstReactionUs, this.p.ccMarkingRiseBytes / rise));
      if (wasOff) this.startCongestionControl();
      else if (!this.ccMarking) {
        // Close the mark-free recovery window exactly where marking begins; the marking updates
        // then keep to a fixed grid, so their phase does not follow the queue's crossings.
        this.runCongestionControl();
        this.nextCcUs = Math.min(this.nextOnGrid(ccIntervalUs), this.now + this.p.ccFirstReactionUs);
        ran = true;
      } else if (this.nextCcUs <= this.now + 1e-9) {
        this.nextCcUs = interval < ccIntervalUs ? this.now + interval : this.nextOnGrid(ccIntervalUs);
      } else if (this.nextCcUs > this.lastCcUs + interval) {
        // The queue began to rise faster since the update was planned.
        this.nextCcUs = Math.max(this.now + 1e-6, this.lastCcUs + interval);
      }
      this.ccMarking = true;
      return ran;
    }
    // Marks accrued since the last update still need their update at the regular time.
    if (this.ccMarking && this.markedCount > 0 && this.nextCcUs > this.now + 1e-9) return false;
    this.ccMarking = false;
    // Recovering senders: the recovery interval while some rate is still well below line rate
    // (its increases matter to the queues), the long one for the tail where little but α changes.
    let recovering = false;
    let nearLine = true;
    const ccRows = this.ccActiveRows();
    for (let i = 0; i < this.ccActiveCount; i++) {
      const f = this.flows[ccRows[i]!]!;
      const cc = f.cc;
      if (!cc?.active || f.done) continue;
      recovering = true;
      if (cc.rate < this.p.ccNearLineShare * f.lineRate) {
        nearLine = false;
        break;
      }
    }
    if (!recovering) {
      this.nextCcUs = Infinity;
      return false;
    }
    if (wasOff) this.startCongestionControl();
    const interval = nearLine ? this.p.ccTailIntervalUs : this.p.ccRecoveryIntervalUs;
    if (this.nextCcUs <= this.now + 1e-9 || this.nextCcUs > this.lastCcUs + interval) {
      this.nextCcUs = Math.max(this.now + 1e-6, this.lastCcUs + interval);
    }
    return false;
  }

  /**
   * Whether a queue rising at `rise` bytes/µs that starts marking would make
   * scheduleCongestionControl act at that instant: start updates, close the recovery window, or
   * bring the next marking update forward. Otherwise the update already planned takes its marks.
   */
  private ccReactsToMarking(rise: number): boolean {
    if (!this.ccMarking) return true;
    const interval = Math.min(this.p.ccIntervalUs, Math.max(this.p.ccFirstReactionUs, this.p.ccMarkingRiseBytes / rise));
    return this.nextCcUs > this.lastCcUs + interval;
  }

  /** The first multiple of `step` µs after now. */
  private nextOnGrid(step: number): number {
    const t = Math.ceil(this.now / step) * step;
    return t > this.now + 1e-6 ? t : t + step;
  }

  private startCongestionControl(): void {
    this.syncFlows();
    this.lastCcUs = this.now;
    for (let i = 0; i < this.markedCount; i++) {
      const p = this.markedPorts[i]!;
      this.markIntegralAtCc[p] = this.markIntegral[p]!;
      this.markedStamp[p] = 0;
    }
    this.markedCount = 0;
    this.fCcSent.fill(0, 0, this.flows.length);
    this.nextCcUs = Math.min(this.nextOnGrid(this.p.ccIntervalUs), this.now + this.p.ccFirstReactionUs);
  }

  /**
   * A queue in PFC equilibrium (its pause in effect upstream for some share of the time) keeps its
   * XOFF whatever the dynamic threshold does meanwhile: its level is held, not chasing the
   * threshold, and it sends XON only once it drains with its upstream unpaused.
   */
  private holding(p: number): boolean {
    return this.xoffSeen[p] === 1 && this.heldShare[p]! > 0;
  }

  private xoffThreshold(p: number): number {
    const d = this.deviceOf[p]!;
    return this.p.pfcAlpha * Math.max(0, this.p.sharedBufferBytes - this.devUsage[d]!);
  }

  // ---- rates --------------------------------------------------------------------------------

  /** Marks port p active for this recompute (once). */
  private touch(p: number): void {
    if (this.activeStamp[p] === this.epoch) return;
    this.activeStamp[p] = this.epoch;
    this.nextActive[this.nextActiveCount++] = p;
  }

  private recompute(): void {
    this.dirty = false;
    const ep = ++this.epoch;
    // 1. Who is paused, and for what share of the time: the upstream of every port whose XOFF
    // has arrived (its equilibrium share), storms and storming NICs (all the time).
    const prevPaused = this.pausedPorts;
    const prevPausedCount = this.pausedCount;
    for (let i = 0; i < prevPausedCount; i++) this.wasPaused[prevPaused[i]!] = ep;
    const nextPaused = this.spareList(prevPaused);
    this.buildPauses(prevPaused, prevPausedCount, nextPaused);

    // 2. Active ports: on some flow's path, holding a queue, pausing or paused. (Arrival rates
    // are kept by the rate passes: a port that leaves every path is recomputed to zero.)
    this.nextActiveCount = 0;
    if (this.levelsStale) this.rebuildLevels();
    for (let i = 0; i < this.pathPortCount; i++) this.touch(this.pathPorts[i]!);
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      if (this.queue[p]! > 0 || this.xoff[p]) this.touch(p);
    }
    for (let i = 0; i < this.nextPausedCount; i++) this.touch(nextPaused[i]!);
    for (let i = 0; i < this.forcedPorts.length; i++) this.touch(this.forcedPorts[i]!);
    // Devices of the old active set lose their usage; the new set adds it back below.
    for (let i = 0; i < this.activeCount; i++) {
      const d = this.deviceOf[this.activePorts[i]!]!;
      this.devUsage[d] = 0;
      this.devSlope[d] = 0;
    }
    const old = this.activePorts;
    this.activePorts = this.nextActive;
    this.activeCount = this.nextActiveCount;
    this.nextActive = old;

    // 3. Rates, twice when ring senders sit at their window (their pace is the ring's) or held
    // queues re-balance their pause shares (the second pass uses the new shares).
    this.solveAllRates(nextPaused);
    const nextPausedCount = this.nextPausedCount;
    // Pause bookkeeping: pauses that ended count their refresh frames; new ones start.
    for (let i = 0; i < prevPausedCount; i++) {
      const u = prevPaused[i]!;
      if (this.pauseShare[u] === 0 || this.pauseStamp[u] !== this.pauseBuild) this.countRxRefresh(u, this.now);
    }
    for (let i = 0; i < nextPausedCount; i++) {
      const u = nextPaused[i]!;
      if (this.wasPaused[u] === ep) continue;
      this.pausedSince[u] = this.now;
      this.pfcRx[u]! += 1;
    }
    this.pausedPorts = nextPaused;
    this.pausedCount = nextPausedCount;

    // 4. Queue slopes, device usage, next events.
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      const d = this.deviceOf[p]!;
      this.dq[p] = this.isScaleUp[p] ? 0 : this.lam[p]! - this.srv[p]!;
      this.devUsage[d]! += this.queue[p]!;
      this.devSlope[d]! += this.dq[p]!;
    }
    this.nextRateEventUs = this.now + this.rateEventDelay();
    // Marking just began: the senders' rates changed with the update that closed recovery.
    if (this.scheduleCongestionControl()) {
      this.recompute();
      return;
    }
    // After the schedule: which Kmin crossings are events depends on it.
    this.nextCrossingUs = this.now + this.crossingDelay();
  }

  private nextPausedCount = 0;

  /**
   * The unwindowed rate pass (ring paces, the arrivals the PFC balance reads), then the final
   * one. When the last final pass had the unwindowed pass's inputs (ratesMirrored), the two
   * passes would repeat each other: one final pass then also keeps the unwindowed tables, and
   * runs again for the senders its own moves marked (the unwindowed pass's moves would have
   * reached the final pass too). Only a ring at its window or a re-balance needs a second pass.
   */
  private solveAllRates(nextPaused: Int32Array): void {
    if (this.ratesMirrored && !this.allRatesStale) {
      let anyGroup = this.solveRates(false, true, true);
      for (let round = 0; !anyGroup && this.senderDirtyB.count > 0 && round < 4; round++) anyGroup = this.solveRates(false, true, true);
      if (this.xoffSeenCount > 0 && this.balanceHeldShares()) {
        this.buildPauses(nextPaused, this.nextPausedCount, nextPaused);
        this.solveRates(true, true);
      } else if (anyGroup) this.solveRates(true, true);
      else if (this.senderDirtyB.count > 0) this.solveRates(false, true);
      else return;
      this.ratesMirrored = false;
      return;
    }
    const anyGroup = this.solveRates(false, false);
    const marksAfterUnwindowed = this.senderMarksAtPass;
    if (this.xoffSeenCount > 0 && this.balanceHeldShares()) {
      this.buildPauses(nextPaused, this.nextPausedCount, nextPaused);
      this.solveRates(true, true);
      this.ratesMirrored = false;
    } else {
      this.solveRates(anyGroup, true);
      this.ratesMirrored = !anyGroup && this.senderMarksAtPass === marksAfterUnwindowed;
      if (this.ratesMirrored) this.mirrorRateTables();
    }
  }

  /**
   * After an event that changed no rate (a queue crossed Kmin or its PFC threshold): congestion
   * control may start or close its recovery window (then rates change after all); else the next
   * crossing is planned. The device usages follow the queues in advancePorts.
   */
  private replanCrossings(): void {
    if (this.scheduleCongestionControl()) this.dirty = true;
    else this.nextCrossingUs = this.now + this.crossingDelay();
  }

  /** Moves every flow to now (rates have not changed since each was last moved). */
  private syncFlows(): void {
    for (let fi = 0; fi < this.flows.length; fi++) if (!this.fDead[fi]) this.syncFlow(fi);
  }

  /** Moves flow row fi to now along its rates, before they are read or changed. */
  private syncFlow(fi: number): void {
    const dt = this.now - this.fAtUs[fi]!;
    this.fAtUs[fi] = this.now;
    if (dt > 0) {
      // The move matters to the sender's rate only if it ends the sender or fills its window.
      const live = this.fRemaining[fi]! > 0;
      const atWindow = this.atWindow(fi);
      this.advanceFlow(fi, dt);
      if (this.fRemaining[fi]! > 0 !== live) this.markSenderLive(fi);
      else if (this.atWindow(fi) !== atWindow) this.markSender(fi);
    }
  }

  /** Whether flow row fi is a ring sender still sending with its window full. */
  private atWindow(fi: number): boolean {
    const remaining = this.fRemaining[fi]!;
    const window = this.fWindow[fi]!;
    return remaining > 0 && window !== Infinity && this.fGroup[fi]! >= 0 && this.fSize[fi]! - remaining - this.fDelivered[fi]! >= window - EPS_BYTES;
  }

  /** Flow row fi's sender rate must be recomputed by both rate passes. */
  private markSender(fi: number): void {
    this.senderMarks++;
    this.senderDirtyA.mark(fi);
    this.senderDirtyB.mark(fi);
  }

  /** Flow row fi's sender started or stopped: its rate and its ring's pace are recomputed. */
  private markSenderLive(fi: number): void {
    this.markSender(fi);
    this.markGroup(this.fGroup[fi]!);
  }

  /** Flow row fi's sender rate must be recomputed by the final rate pass. */
  private markSenderFinal(fi: number): void {
    this.senderDirtyB.mark(fi);
  }

  /** Group row g's ring pace must be recomputed from all its members (−1: no group). */
  private markGroup(g: number): void {
    if (g < 0) return;
    this.groupRescan[g] = 1;
    this.listGroup(g);
  }

  /** A live member of group row g now delivers `out`, below the group's pace. */
  private markGroupUndercut(g: number, out: number): void {
    this.listGroup(g);
    if (out < this.groupUndercut[g]!) {
      this.groupUndercut[g] = out;
      this.groupUndercutCount[g] = 1;
    } else if (out === this.groupUndercut[g]) this.groupUndercutCount[g]!++;
  }

  /** A live member of group row g reached (+1) or left (−1) the group's pace. */
  private markGroupAtPace(g: number, delta: number): void {
    this.listGroup(g);
    this.groupAtPaceDelta[g]! += delta;
  }

  /** Lists group row g for the pace update at the end of the unwindowed pass (once). */
  private listGroup(g: number): void {
    if (this.groupDirtyStamp[g]) return;
    this.groupDirtyStamp[g] = 1;
    this.groupUndercut[g] = Infinity;
    this.groupUndercutCount[g] = 0;
    this.groupAtPaceDelta[g] = 0;
    this.groupDirty[this.groupDirtyCount++] = g;
  }

  /**
   * One sender's rate in a rate pass (see computeRates): its rate limit, less the share of time
   * its NIC (or an external sender's first port) is paused, held to its ring's pace at its
   * window in a windowed pass.
   */
  private rateSender(fi: number, windowed: boolean, final: boolean, mirrored = false): void {
    const remaining = this.fRemaining[fi]!;
    let s = 0;
    let atWindow = 0;
    if (remaining > 0) {
      s = this.fRateCap[fi]!;
      const nic = this.fSrcNic[fi]!;
      if (nic >= 0) s *= 1 - this.nicPauseShare[nic]!;
      else if (this.fExternal[fi]) {
        const p0 = this.hopPort[this.fBase[fi]!]!;
        if (this.xoffSeen[p0]) s *= 1 - this.heldShare[p0]!;
      }
      const g = this.fGroup[fi]!;
      if (this.fWindow[fi] !== Infinity && g >= 0) {
        const inFlight = this.fSize[fi]! - remaining - this.fDelivered[fi]!;
        if (inFlight >= this.fWindow[fi]! - EPS_BYTES) {
          atWindow = 1;
          if (windowed) s = Math.min(s, this.groupCap[g]!);
        }
      }
    }
    const base = this.fBase[fi]!;
    if (mirrored) {
      // The unwindowed tables take what the final pass sets (it marks the port dirty).
      this.countAtWindow(fi, atWindow);
      this.hopInA[base] = s;
      this.sendA[fi] = s;
    }
    if (final) {
      // (A scale-up sender's fSend and first hop hold its credit-bound rate, not s.)
      if (s !== this.fSend[fi] || s !== this.hopIn[base]) this.syncFlow(fi);
      this.fSend[fi] = s;
      this.hopIn[base] = s;
      if (s !== this.sendB[fi]) {
        this.sendB[fi] = s;
        this.markDirty(this.hopPort[base]!);
        this.markReRated(fi);
      }
    } else {
      this.countAtWindow(fi, atWindow);
      this.hopInA[base] = s;
      if (s !== this.sendA[fi]) {
        this.sendA[fi] = s;
        this.markDirty(this.hopPort[base]!);
      }
    }
  }

  /** Notes whether flow row fi is a ring sender at its window, as the unwindowed pass sees it. */
  private countAtWindow(fi: number, atWindow: number): void {
    if (atWindow === this.fAtWindow[fi]) return;
    this.atWindowCount += atWindow ? 1 : -1;
    this.fAtWindow[fi] = atWindow;
  }

  /**
   * Fills `list` with the paused ports and their shares, after clearing the shares of the `clear`
   * list (the previous build). A port paused by several downstream queues is paused for the
   * largest of their shares.
   */
  private buildPauses(clear: Int32Array, clearCount: number, list: Int32Array): void {
    const before = this.nicShareBefore;
    const was = this.nicWasPaused;
    const wasCount = this.nicPausedCount;
    for (let i = 0; i < wasCount; i++) {
      const k = this.nicPausedList[i]!;
      was[i] = k;
      before[k] = this.nicPauseShare[k]!;
    }
    this.collectPauses(clear, clearCount, list);
    // Senders at NICs whose pause share changed re-rate.
    for (let i = 0; i < this.nicPausedCount; i++) {
      const k = this.nicPausedList[i]!;
      if (this.nicPauseShare[k] !== before[k]) this.markNicSenders(k);
    }
    for (let i = 0; i < wasCount; i++) {
      const k = was[i]!;
      if (this.nicPauseShare[k] !== before[k]) this.markNicSenders(k);
      before[k] = 0;
    }
  }

  private markNicSenders(k: number): void {
    for (const fi of this.nicRows[k]!) this.markSender(fi);
  }

  /** The held share of port p's PAUSE changed or it arrived or ended: external senders entering there re-rate. */
  private markExternalSendersAt(p: number): void {
    const { externalRows, fDead, fBase, hopPort } = this;
    for (let i = 0; i < externalRows.length; i++) {
      const fi = externalRows[i]!;
      if (!fDead[fi] && hopPort[fBase[fi]!] === p) this.markSender(fi);
    }
  }

  /** buildPauses without noting which NICs changed. */
  private collectPauses(clear: Int32Array, clearCount: number, list: Int32Array): void {
    for (let i = 0; i < clearCount; i++) this.pauseShare[clear[i]!] = 0;
    for (let i = 0; i < this.nicPausedCount; i++) this.nicPauseShare[this.nicPausedList[i]!] = 0;
    this.nicPausedCount = 0;
    this.nextPausedCount = 0;
    this.pauseBuild++;
    for (let i = 0; i < this.forcedPorts.length; i++) {
      const p = this.forcedPorts[i]!;
      if (this.peerNic[p]! >= 0) this.pauseNic(this.peerNic[p]!, 1);
      else this.pausePort(this.peerPort[p]!, list, 1);
    }
    for (let i = 0; i < this.forcedNics.length; i++) this.pausePort(this.nicPort[this.forcedNics[i]!]!, list, 1);
    if (this.xoffSeenCount === 0) return;
    if (this.levelsStale) this.rebuildLevels();
    const edges = this.pauseEdges;
    const walk = this.pauseEdgeWalk;
    const walkCount = this.xoffEdges();
    const portsBefore = this.nextPausedCount;
    const nicsBefore = this.nicPausedCount;
    const { pauseFirstEdge, nicFirstEdge } = this;
    for (let w = 0; w < walkCount; w++) {
      const i = walk[w]!;
      const p = edges[i]!;
      if (this.fDead[edges[i + 2]!]) continue;
      const to = edges[i + 1]!;
      const share = this.heldShare[p]!;
      if (share <= 0) continue;
      if (to >= 0) {
        const listed = this.nextPausedCount;
        this.pausePort(to, list, share);
        if (this.nextPausedCount > listed || i < pauseFirstEdge[to]!) pauseFirstEdge[to] = i;
      } else {
        const k = -to - 1;
        const listed = this.nicPausedCount;
        this.pauseNic(k, share);
        if (this.nicPausedCount > listed || i < nicFirstEdge[k]!) nicFirstEdge[k] = i;
      }
    }
    // A walk of several ports' edges is out of edge order: the lists are put back in the order
    // of a walk of all edges (first pausing edge first), as the paused-port list sets which
    // device usages are summed first.
    if (!this.xoffEdgesInOrder) {
      this.orderByFirstEdge(list, portsBefore, this.nextPausedCount, pauseFirstEdge);
      this.orderByFirstEdge(this.nicPausedList, nicsBefore, this.nicPausedCount, nicFirstEdge);
    }
  }

  /** Sorts list[from, to) by firstEdge of each entry (distinct for distinct entries). */
  private orderByFirstEdge(list: Int32Array, from: number, to: number, firstEdge: Int32Array): void {
    if (to - from < 2) return;
    if (this.orderKeys.length < to - from) this.orderKeys = new Float64Array(2 * (to - from));
    const keys = this.orderKeys.subarray(0, to - from);
    const span = firstEdge.length;
    for (let i = from; i < to; i++) keys[i - from] = firstEdge[list[i]!]! * span + list[i]!;
    keys.sort();
    for (let i = from; i < to; i++) list[i] = keys[i - from]! % span;
  }

  /** Groups the pause edges by port (pauseEdgeFirst/CountAt/At), keeping their order within each. */
  private indexPauseEdges(): void {
    const { pauseEdges, pauseEdgeFirst, pauseEdgeCountAt, pathPorts } = this;
    const edgeCount = this.pauseEdgeCount / 3;
    if (this.pauseEdgeAt.length < edgeCount) {
      this.pauseEdgeAt = new Int32Array(pauseEdges.length / 3);
      this.pauseEdgeWalk = new Int32Array(pauseEdges.length / 3);
    }
    for (let i = 0; i < this.pathPortCount; i++) pauseEdgeCountAt[pathPorts[i]!] = 0;
    for (let i = 0; i < this.pauseEdgeCount; i += 3) pauseEdgeCountAt[pauseEdges[i]!]!++;
    let first = 0;
    for (let i = 0; i < this.pathPortCount; i++) {
      const p = pathPorts[i]!;
      pauseEdgeFirst[p] = first;
      first += pauseEdgeCountAt[p]!;
      pauseEdgeCountAt[p] = 0;
    }
    for (let i = 0; i < this.pauseEdgeCount; i += 3) {
      const p = pauseEdges[i]!;
      this.pauseEdgeAt[pauseEdgeFirst[p]! + pauseEdgeCountAt[p]!++] = i;
    }
  }

  /**
   * Offsets of the pause edges of ports whose XOFF arrived, port by port, in pauseEdgeWalk;
   * xoffEdgesInOrder tells whether they ascend (one port's edges do).
   */
  private xoffEdges(): number {
    const ports = this.xoffSeenPorts;
    const walk = this.pauseEdgeWalk;
    let n = 0;
    let listed = 0;
    let sorted = true;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (!this.xoffSeen[p]) {
        this.xoffListed[p] = 0;
        continue;
      }
      ports[listed++] = p;
      const first = this.pauseEdgeFirst[p]!;
      const end = first + (this.pathPortStamp[p] === this.pathStamp ? this.pauseEdgeCountAt[p]! : 0);
      if (n > 0 && end > first) sorted = false;
      for (let k = first; k < end; k++) walk[n++] = this.pauseEdgeAt[k]!;
    }
    ports.length = listed;
    this.xoffEdgesInOrder = sorted;
    return n;
  }

  private pausePort(u: number, list: Int32Array, share: number): void {
    if (u < 0 || share <= 0) return;
    if (this.pauseStamp[u] !== this.pauseBuild) {
      this.pauseStamp[u] = this.pauseBuild;
      this.pauseShare[u] = share;
      list[this.nextPausedCount++] = u;
    } else if (share > this.pauseShare[u]!) this.pauseShare[u] = share;
  }

  private pauseNic(k: number, share: number): void {
    if (share <= 0) return;
    if (this.nicPauseShare[k] === 0) this.nicPausedList[this.nicPausedCount++] = k;
    if (share > this.nicPauseShare[k]!) this.nicPauseShare[k] = share;
  }

  /**
   * PFC equilibrium: scales each held queue's pause share so that its arrivals (as the
   * unwindowed rate pass computed them) equal its drain. Returns true when some share changed.
   */
  private balanceHeldShares(): boolean {
    const { pfcRebalanceShare, pfcHoldBandBytes } = this.p;
    let changed = false;
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      if (!this.xoffSeen[p] || this.isScaleUp[p]) continue;
      const l = this.lamA[p]!;
      const c = this.cap[p]! * (1 - this.pauseShare[p]!);
      const pass = 1 - this.heldShare[p]!;
      const next = l > 0 ? Math.min(1, Math.max(MIN_PASS, (pass * c) / l)) : 1;
      const move = Math.abs(next - pass);
      if (move <= 1e-9) continue;
      if (move > pfcRebalanceShare * pass || Math.abs(this.queue[p]! - this.heldQueueAt[p]!) >= pfcHoldBandBytes - EPS_BYTES) {
        this.heldShare[p] = 1 - next;
        this.heldQueueAt[p] = this.queue[p]!;
        this.markExternalSendersAt(p);
        changed = true;
      }
    }
    return changed;
  }

  /** A list to fill next, distinct from `inUse` (paused-port lists alternate between two). */
  private spareList(inUse: Int32Array): Int32Array {
    return inUse === this.pausedA ? this.pausedB : this.pausedA;
  }

  /** One rate pass (see computeRates), checked against a pass from scratch when verifyRatePasses is set. */
  private solveRates(windowed: boolean, final: boolean, mirrored = false): boolean {
    const anyWindowed = this.computeRates(windowed, final, mirrored);
    if (!this.verifyRatePasses) return anyWindowed;
    if (mirrored) this.verifyMirror();
    const marksAtPass = this.senderMarksAtPass;
    const lam = final ? this.lam : this.lamA;
    const hopOut = final ? this.hopOut : this.hopOutA;
    const lamBefore = lam.slice();
    const outBefore = hopOut.slice(0, this.hopCount);
    const paceBefore = this.groupCap.slice(0, this.groupCount);
    (final ? this.sendB : this.sendA).fill(NaN, 0, this.flows.length);
    const stale = this.allRatesStale;
    this.allRatesStale = true;
    this.computeRates(windowed, final);
    this.senderMarksAtPass = marksAtPass;
    if (!final) this.allRatesStale = stale;
    // The pass from scratch rounds differently: the unwindowed tables take its figures too.
    else if (this.ratesMirrored) this.mirrorRateTables();
    const pass = final ? 'final' : 'unwindowed';
    const off = (a: number, b: number): boolean => Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let i = 0; i < this.pathPortCount; i++) {
      const p = this.pathPorts[i]!;
      if (off(lamBefore[p]!, lam[p]!)) {
        throw new Error(`${pass} rate pass at ${this.now} µs left ${this.names[p]} stale: arrival ${lamBefore[p]} bytes/µs, ${lam[p]} from scratch`);
      }
    }
    for (let e = 0; e < this.hopCount; e++) {
      if (off(outBefore[e]!, hopOut[e]!)) {
        throw new Error(`${pass} rate pass at ${this.now} µs left a hop at ${this.names[this.hopPort[e]!]} stale: output ${outBefore[e]} bytes/µs, ${hopOut[e]} from scratch`);
      }
    }
    // Ring paces (kept by the unwindowed pass) of the groups with live members.
    for (let g = 0; g < this.groupCount && !final; g++) {
      if (this.groupLive[g]! > 0 && paceBefore[g] !== this.groupCap[g] && off(paceBefore[g]!, this.groupCap[g]!)) {
        throw new Error(`unwindowed rate pass at ${this.now} µs left group row ${g}'s ring pace stale: ${paceBefore[g]} bytes/µs, ${this.groupCap[g]} from scratch`);
      }
    }
    return anyWindowed;
  }

  /** Throws naming the first port or hop where a mirrored pass left the two sets of tables apart. */
  private verifyMirror(): void {
    for (let i = 0; i < this.pathPortCount; i++) {
      const p = this.pathPorts[i]!;
      if (this.lamA[p] !== this.lam[p]) throw new Error(`mirrored rate pass at ${this.now} µs left ${this.names[p]}'s arrivals apart: ${this.lamA[p]} unwindowed, ${this.lam[p]} final`);
    }
    for (let e = 0; e < this.hopCount; e++) {
      if (this.hopOutA[e] !== this.hopOut[e]) {
        throw new Error(`mirrored rate pass at ${this.now} µs left a hop at ${this.names[this.hopPort[e]!]} apart: output ${this.hopOutA[e]} unwindowed, ${this.hopOut[e]} final`);
      }
    }
  }

  /** Every live group's ring pace from scratch: its slowest live member's delivered rate. */
  private rebuildRingPaces(hopOut: Float64Array): void {
    const { fBase, fHops, fGroup, fRemaining, groupCap } = this;
    groupCap.fill(Infinity, 0, this.groupCount);
    const atPace = this.groupAtPace;
    atPace.fill(0, 0, this.groupCount);
    for (let fi = 0; fi < this.flows.length; fi++) {
      const g = fGroup[fi]!;
      if (g >= 0 && fRemaining[fi]! > 0) {
        const last = hopOut[fBase[fi]! + fHops[fi]! - 1]!;
        if (last < groupCap[g]!) {
          groupCap[g] = last;
          atPace[g] = 1;
        } else if (last === groupCap[g]) atPace[g]!++;
      }
    }
    for (let i = 0; i < this.groupDirtyCount; i++) {
      this.groupDirtyStamp[this.groupDirty[i]!] = 0;
      this.groupRescan[this.groupDirty[i]!] = 0;
    }
    this.groupDirtyCount = 0;
  }

  /**
   * Makes the unwindowed tables equal the final ones, which the unwindowed pass computed too up
   * to rounding (each pass recomputes a port at its own times); the ring paces follow.
   */
  private mirrorRateTables(): void {
    const n = this.hopCount;
    this.hopOutA.set(this.hopOut.subarray(0, n));
    this.hopInA.set(this.hopIn.subarray(0, n));
    // A scale-up sender's first hop holds its credit-bound rate in the final tables only.
    for (const fi of this.scaleUpRows) this.hopInA[this.fBase[fi]!] = this.sendB[fi]!;
    this.lamA.set(this.lam);
    this.capNowA.set(this.capNow);
    this.queuedA.set(this.queuedB);
    this.sendA.set(this.sendB.subarray(0, this.flows.length));
    this.rebuildRingPaces(this.hopOutA);
  }

  /** Notes that the running final pass changed flow row fi's rates. */
  private markReRated(fi: number): void {
    if (this.fRateStamp[fi]! >= this.reRatedFrom) return;
    this.fRateStamp[fi] = this.dirtyGen;
    this.reRated[this.reRatedCount++] = fi;
  }

  /** Queues port p for recomputation in the running rate pass. */
  private markDirty(p: number): void {
    if (this.dirtyStamp[p] === this.dirtyGen) return;
    this.dirtyStamp[p] = this.dirtyGen;
    const L = this.level[p]!;
    this.dirtyAtLevel[L]![this.dirtyCount[L]!++] = p;
  }

  /**
   * Per-flow, per-hop rates level by level (uplinks, spine downlinks, leaf downlinks), in the
   * unwindowed pass (`final` false: variant A tables, ring paces) or the final one (variant B:
   * lam/hopIn/hopOut, service rates). Only ports whose inputs changed since the same pass last
   * ran are recomputed (see lamA), and only senders whose inputs changed (see senderDirtyA).
   */
  private computeRates(windowed: boolean, final: boolean, mirrored = false): boolean {
    const { capNowA, lamA, capNow: capNowB, lam: lamB, cap, pauseShare, queue, isScaleUp, srv } = this;
    const lam = final ? lamB : lamA;
    const capNow = final ? capNowB : capNowA;
    const queued = final ? this.queuedB : this.queuedA;
    const active = this.activePorts;
    const n = this.activeCount;
    if (this.levelsStale) this.rebuildLevels();
    const hopIn = final ? this.hopIn : this.hopInA;
    const hopOut = final ? this.hopOut : this.hopOutA;
    const { hopInA, hopOutA, hopPort, hopBacklog, hopLast, hopWeight, portHops, portHopFirst, portHopCount, dirtyAtLevel, dirtyCount } = this;
    this.dirtyGen++;
    dirtyCount.fill(0);
    // Rows several final passes of one recompute change are all re-planned after them.
    if (final && this.reRatedGen === -1) {
      this.reRatedCount = 0;
      this.reRatedFrom = this.dirtyGen;
    }
    const queuedA = this.queuedA;
    // What changed since this pass last ran: capacities left by the pause shares, queue states,
    // and the ports whose hops changed.
    for (let i = 0; i < n; i++) {
      const p = active[i]!;
      const c = cap[p]! * (1 - pauseShare[p]!);
      if (c !== capNow[p]) {
        capNow[p] = c;
        this.markDirty(p);
      }
      const qd = queue[p]! > 0 && !isScaleUp[p] ? 1 : 0;
      if (qd !== queued[p]) {
        queued[p] = qd;
        this.markDirty(p);
      }
      if (mirrored) {
        capNowA[p] = c;
        queuedA[p] = qd;
      }
    }
    for (let i = 0; i < this.portsChangedCount; i++) this.markDirty(this.portsChanged[i]!);
    if (this.allRatesStale) for (let i = 0; i < this.pathPortCount; i++) this.markDirty(this.pathPorts[i]!);
    const { fBase, fHops, fRemaining, fSend, fScaleUp, fGroup, groupCap } = this;
    const nFlows = this.flows.length;
    // Sender rates: the rows whose inputs changed since this pass last ran (all of them after a
    // compaction, or when the final pass switches between windowed and not), and the scale-up
    // senders, whose rates follow the credit links. (An external sender's rate follows the PAUSE
    // held at its first port: markExternalSendersAt lists it when that changes.)
    const dirty = final ? this.senderDirtyB : this.senderDirtyA;
    // A mirrored pass stands for the unwindowed one too: it takes that pass's rows as well.
    const dirtyA = mirrored ? this.senderDirtyA : undefined;
    let listed = dirty.count;
    let listedA = dirtyA ? dirtyA.count : 0;
    this.senderMarksAtPass = this.senderMarks;
    if (this.allRatesStale || (final && windowed !== this.windowedB)) {
      dirty.clear();
      dirtyA?.clear();
      listed = 0;
      listedA = 0;
      if (!final || mirrored) this.atWindowCount = 0;
      for (let fi = 0; fi < nFlows; fi++) {
        if (!final || mirrored) this.fAtWindow[fi] = 0;
        this.rateSender(fi, windowed, final, mirrored);
      }
    } else {
      for (let i = 0; i < listed; i++) {
        const fi = dirty.rows[i]!;
        dirty.take(fi);
        this.rateSender(fi, windowed, final, mirrored);
      }
      for (let i = 0; i < listedA; i++) {
        const fi = dirtyA!.rows[i]!;
        dirtyA!.take(fi);
        this.rateSender(fi, windowed, final, mirrored);
      }
      const scaleUpRows = this.scaleUpRows;
      if (final) for (let i = 0; i < scaleUpRows.length; i++) this.rateSender(scaleUpRows[i]!, windowed, final, mirrored);
    }
    // Rows marked while this pass ran (their own moves) wait for the next one.
    dirty.dropFirst(listed);
    dirtyA?.dropFirst(listedA);
    if (final) this.windowedB = windowed;
    const anyWindowed = this.atWindowCount > 0;
    for (let L = 0; L <= 2; L++) {
      const list = dirtyAtLevel[L]!;
      // Later levels grow while this one runs (outputs flow downstream); this one does not.
      for (let i = 0; i < dirtyCount[L]!; i++) {
        const p = list[i]!;
        const first = portHopFirst[p]!;
        const end = first + portHopCount[p]!;
        let l = 0;
        for (let k = first; k < end; k++) {
          const e = portHops[k]!;
          l += hopIn[e]! * hopWeight[e]!;
        }
        lam[p] = l;
        if (mirrored) lamA[p] = l;
        const c = capNow[p]!;
        const q = queue[p]!;
        const isQueued = q > 0 && !isScaleUp[p];
        // A draining queue shares its spare service by the hops' backlogs as of now.
        if (isQueued && l < c && c !== 0) for (let k = first; k < end; k++) this.syncFlow(this.hopRow[portHops[k]!]!);
        for (let k = first; k < end; k++) {
          const e = portHops[k]!;
          const inRate = hopIn[e]!;
          let out: number;
          if (c === 0) out = 0;
          else if (isQueued) {
            if (l >= c) out = l > 0 ? (inRate * c) / l : 0;
            // Draining: the spare service goes to the bytes already queued, in their proportions.
            else out = inRate + ((c - l) * hopBacklog[e]!) / q;
          } else out = l > c ? (inRate * c) / l : inRate;
          if (out !== hopOut[e]) {
            if (final) {
              this.syncFlow(this.hopRow[e]!);
              this.markReRated(this.hopRow[e]!);
            }
            if ((!final || mirrored) && hopLast[e]) {
              // A ring's pace (its slowest delivered rate) changes only if this output undercuts
              // it or was it.
              const fi = this.hopRow[e]!;
              const g = fGroup[fi]!;
              if (g >= 0) {
                // (A pace member falling is an undercut too; only the last one rising needs a scan.)
                const live = fRemaining[fi]! > 0;
                if (!live) {
                  if (hopOut[e] === groupCap[g]) this.markGroup(g);
                } else if (out < groupCap[g]!) this.markGroupUndercut(g, out);
                else if (hopOut[e] === groupCap[g]) this.markGroupAtPace(g, -1);
                else if (out === groupCap[g]) this.markGroupAtPace(g, 1);
              }
            }
            hopOut[e] = out;
            if (mirrored) hopOutA[e] = out;
            if (hopLast[e] === 0) {
              hopIn[e + 1] = out;
              if (mirrored) hopInA[e + 1] = out;
              this.markDirty(hopPort[e + 1]!);
            }
          }
        }
      }
    }
    if (final) {
      this.finalPassGen = this.dirtyGen;
      this.reRatedGen = this.dirtyGen;
      for (let i = 0; i < this.portsChangedCount; i++) this.portChangedStamp[this.portsChanged[i]!] = 0;
      this.portsChangedCount = 0;
      // Scale-up senders wait for credits instead of queueing: what is not sent stays at the GPU.
      const scaleUpRows = this.allRatesStale ? null : this.scaleUpRows;
      const count = scaleUpRows ? scaleUpRows.length : nFlows;
      for (let i = 0; i < count; i++) {
        const fi = scaleUpRows ? scaleUpRows[i]! : i;
        if (fScaleUp[fi]) {
          const base = fBase[fi]!;
          fSend[fi] = hopOut[base]!;
          hopIn[base] = fSend[fi]!;
        }
      }
      for (let i = 0; i < n; i++) {
        const p = active[i]!;
        const l = lam[p]!;
        const c = capNow[p]!;
        if (queue[p]! > 0 && !isScaleUp[p]) srv[p] = c;
        else srv[p] = Math.min(l, c);
      }
      this.allRatesStale = false;
    }
    if (final && !mirrored) {
      // (the ring paces are the unwindowed pass's)
    } else if (this.allRatesStale) this.rebuildRingPaces(hopOut);
    else {
      // Ring paces of the groups a member of which changed; their members' final rates follow.
      for (let i = 0; i < this.groupDirtyCount; i++) {
        const g = this.groupDirty[i]!;
        this.groupDirtyStamp[g] = 0;
        const group = this.groupOfRow[g];
        let pace = Infinity;
        const rescan = this.groupRescan[g];
        this.groupRescan[g] = 0;
        if (!rescan && this.groupUndercut[g]! < groupCap[g]!) {
          pace = this.groupUndercut[g]!;
          this.groupAtPace[g] = this.groupUndercutCount[g]!;
        } else if (!rescan && this.groupAtPace[g]! + this.groupAtPaceDelta[g]! > 0) {
          pace = groupCap[g]!;
          this.groupAtPace[g]! += this.groupAtPaceDelta[g]!;
        } else {
          let atPace = 0;
          if (group) {
            for (const f of group.members) {
              const fi = f.slot;
              if (f.done || fRemaining[fi]! <= 0) continue;
              const last = hopOut[fBase[fi]! + fHops[fi]! - 1]!;
              if (last < pace) {
                pace = last;
                atPace = 1;
              } else if (last === pace) atPace++;
            }
          }
          this.groupAtPace[g] = atPace;
        }
        if (pace !== groupCap[g]) {
          groupCap[g] = pace;
          // (Only a member at its window sends at the pace. With none at it as of its last rating,
          // any that reached it since moved there, which marked it already.)
          if (group && this.atWindowCount > 0) for (const f of group.members) if (!f.done && this.atWindow(f.slot)) this.markSenderFinal(f.slot);
        }
      }
      this.groupDirtyCount = 0;
    }
    return anyWindowed && !windowed;
  }

  /**
   * µs until the next queue crossing that must be an event: a PFC XOFF/XON threshold, or Kmin
   * from below when congestion control would react at that instant. Other ECN crossings change
   * no rate and the mark integral is exact across them (advancePorts), so they are not events.
   */
  private crossingDelay(): number {
    const { ecnKminBytes, pfcAlpha, sharedBufferBytes, pfcXonOffsetBytes } = this.p;
    let best = Infinity;
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      if (this.isScaleUp[p]) continue;
      const q = this.queue[p]!;
      const s = this.dq[p]!;
      // An idle port crosses nothing unless its device's buffer fills (the threshold falls to 0).
      if (s === 0 && q === 0 && !this.xoff[p] && this.devSlope[this.deviceOf[p]!]! <= 0) continue;
      if (s > 0 && q < ecnKminBytes - EPS_BYTES - this.p.eventBatchUs * s) {
        const d = (ecnKminBytes - q) / s;
        if (d < best && this.ccReactsToMarking(s)) best = d;
      }
      // Dynamic threshold T(t) = α (B − U(t)): solve q(t) = T(t) (XOFF) or q(t) = T(t) − offset (XON).
      const d = this.deviceOf[p]!;
      const gap = pfcAlpha * (sharedBufferBytes - this.devUsage[d]!) - q;
      const closing = s + pfcAlpha * this.devSlope[d]!;
      const target = this.xoff[p] ? gap - pfcXonOffsetBytes : gap;
      if (this.xoff[p] ? target < -EPS_BYTES && closing < 0 && !this.holding(p) : target > EPS_BYTES && closing > 0) best = Math.min(best, target / closing);
    }
    return best;
  }

  /** µs until the next queue emptying, held-queue re-balance, sender end, window fill or delivery. */
  private rateEventDelay(): number {
    const { pfcHoldBandBytes } = this.p;
    let best = Infinity;
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      if (this.isScaleUp[p]) continue;
      const q = this.queue[p]!;
      const s = this.dq[p]!;
      if (s < 0 && q > 0) best = Math.min(best, q / -s);
      // A held queue drifting off its equilibrium: re-balance once it moved by the band.
      if (this.xoffSeen[p] && s !== 0) best = Math.min(best, pfcHoldBandBytes / Math.abs(s));
    }
    const { fNextUs, fRateStamp, fDead, reRated } = this;
    const now = this.now;
    // New times for the flows the final pass re-rated (if it ran since the last call) and the
    // flows whose time has come; the rest keep theirs.
    if (this.finalPassGen === this.reRatedGen) {
      for (let i = 0; i < this.reRatedCount; i++) {
        const fi = reRated[i]!;
        if (!fDead[fi]) this.planFlowEvent(fi);
      }
      this.reRatedGen = -1;
    }
    const due = this.candidates;
    const dueCount = this.nextHeap.collectAtMost(now + 1e-9, due, 0);
    for (let i = 0; i < dueCount; i++) {
      const fi = due[i]!;
      if (fRateStamp[fi]! < this.reRatedFrom) this.planFlowEvent(fi);
    }
    const top = this.nextHeap.top();
    if (top >= 0) {
      const d = fNextUs[top]! - now;
      if (d < best) best = d;
    }
    return best;
  }

  /** dirtyGen of the final pass whose re-rated rows still await new event times (−1: none). */
  private reRatedGen = -1;

  /** Moves flow row fi to now and plans its next own event. */
  private planFlowEvent(fi: number): void {
    this.syncFlow(fi);
    const next = this.now + this.flowEventDelay(fi);
    this.fNextUs[fi] = next;
    this.nextHeap.update(fi);
    if (next === Infinity) this.noteNoEvent(fi);
  }

  /** µs until flow row fi's sender ends, a backlog of it empties, its window fills or it is delivered. */
  private flowEventDelay(fi: number): number {
    const { hopIn, hopOut, hopBacklog, fBase, fHops, fRemaining, fDelivered, fSend, fSize, fWindow } = this;
    let best = Infinity;
    {
      const send = fSend[fi]!;
      const remaining = fRemaining[fi]!;
      if (send > 0 && remaining > 0) best = Math.min(best, remaining / send);
      const hops = fHops[fi]!;
      const base = fBase[fi]!;
      for (let e = base; e < base + hops; e++) {
        const b = hopBacklog[e]!;
        const net = hopIn[e]! - hopOut[e]!;
        if (net < 0 && b > EPS_BYTES) best = Math.min(best, b / -net);
      }
      const last = hopOut[base + hops - 1]!;
      const window = fWindow[fi]!;
      if (window !== Infinity && remaining > 0) {
        const inFlight = fSize[fi]! - remaining - fDelivered[fi]!;
        const grow = send - last;
        if (grow > 0 && inFlight < window - EPS_BYTES) best = Math.min(best, (window - inFlight) / grow);
      }
      if (last > 0) best = Math.min(best, Math.max(0, fSize[fi]! - fDelivered[fi]! - 0.5) / last);
    }
    return best;
  }

  // ---- integration --------------------------------------------------------------------------

  /** RED marking probability at queue depth q. */
  private markProbability(q: number): number {
    const { ecnKminBytes, ecnKmaxBytes, ecnPmax } = this.p;
    return q <= ecnKminBytes ? 0 : q >= ecnKmaxBytes ? 1 : (ecnPmax * (q - ecnKminBytes)) / (ecnKmaxBytes - ecnKminBytes);
  }

  /**
   * Mean RED marking probability over a queue moving linearly from q0 to q1. The probability is
   * linear in q on each side of Kmin and Kmax, so within one piece the mean of its ends is exact;
   * across Kmin or Kmax (no longer events) it is the integral of the pieces over the span.
   */
  private meanMarkProbability(q0: number, q1: number): number {
    const { ecnKminBytes, ecnKmaxBytes } = this.p;
    const piece0 = q0 <= ecnKminBytes ? 0 : q0 >= ecnKmaxBytes ? 2 : 1;
    const piece1 = q1 <= ecnKminBytes ? 0 : q1 >= ecnKmaxBytes ? 2 : 1;
    if (piece0 === piece1) return (this.markProbability(q0) + this.markProbability(q1)) / 2;
    return (this.markProbabilityIntegral(q1) - this.markProbabilityIntegral(q0)) / (q1 - q0);
  }

  /** ∫₀^q of the RED marking probability (bytes). */
  private markProbabilityIntegral(q: number): number {
    const { ecnKminBytes, ecnKmaxBytes, ecnPmax } = this.p;
    if (q <= ecnKminBytes) return 0;
    const span = ecnKmaxBytes - ecnKminBytes;
    if (q < ecnKmaxBytes) return (ecnPmax * (q - ecnKminBytes) ** 2) / (2 * span);
    return (ecnPmax * span) / 2 + (q - ecnKmaxBytes);
  }

  /** Moves every active queue `dt` µs along its slope, accruing its counters. */
  private advancePorts(dt: number): void {
    if (dt <= 0) return;
    const mtu = this.p.mtuBytes;
    const pauseLenUs = 2 * this.p.linkDelayUs;
    for (let i = 0; i < this.activeCount; i++) {
      const p = this.activePorts[i]!;
      const q0 = this.queue[p]!;
      const sent = this.srv[p]! * dt;
      this.txBytes[p]! += sent;
      if (this.isScaleUp[p]) {
        const c = this.cap[p]!;
        const wire = this.nominal[p]! * this.capacityFactor[p]!;
        // Demand beyond the credit bound: the sender sat at zero credits for that share of time.
        if (c < wire && this.lam[p]! >= c && this.lam[p]! > 0) this.creditStallUs[p]! += dt * (1 - c / wire);
        if (sent > 0 && this.creditSeverity[p]! > 0) this.replays[p]! += sent * replaysPerByte(this.creditSeverity[p]!);
        continue;
      }
      const q1 = Math.max(0, q0 + this.dq[p]! * dt);
      this.queue[p] = q1;
      // The PFC thresholds read the shared-buffer usage at every event, crossings or not.
      this.devUsage[this.deviceOf[p]!]! += q1 - q0;
      if (q1 > this.watermark[p]!) this.watermark[p] = q1;
      if (q1 > this.stretchPeak[p]!) this.stretchPeak[p] = q1;
      if (q0 > 0 || q1 > 0) {
        const pm = this.meanMarkProbability(q0, q1);
        if (pm > 0) {
          this.markIntegral[p]! += pm * dt;
          this.ecnMarked[p]! += (sent / mtu) * pm;
          if (this.markedStamp[p] === 0) {
            this.markedStamp[p] = 1;
            this.markedPorts[this.markedCount++] = p;
          }
        }
        addLinearSegment(this.histogram, p * this.nBins, q0, q1, dt);
        this.histAccountedUs[p]! += dt;
      }
      const rxShare = this.pauseShare[p]!;
      if (rxShare > 0) {
        this.pauseUs[p]! += rxShare * dt;
        if (rxShare < 1) {
          // Equilibrium: one PAUSE per pause of about a round trip; no refresh frames.
          this.pfcRx[p]! += (rxShare * dt) / pauseLenUs;
          this.pausedSince[p]! += dt;
        }
      }
      if (this.forcedXoff[p]) this.pauseTxUs[p]! += dt;
      else if (this.xoff[p]) {
        const txShare = this.xoffSeen[p] ? this.heldShare[p]! : 1;
        this.pauseTxUs[p]! += txShare * dt;
        if (txShare < 1) {
          this.pfcTx[p]! += (txShare * dt) / pauseLenUs;
          this.xoffSince[p]! += dt;
        }
      }
    }
  }

  /** Moves flow row fi `dt` µs along its rates: bytes injected, queued per hop, delivered. */
  private advanceFlow(fi: number, dt: number): void {
    const { hopIn, hopOut, hopBacklog, fRemaining, fCcSent, fSend } = this;
    const send = fSend[fi]!;
    if (send > 0) {
      const inj = Math.min(fRemaining[fi]!, send * dt);
      fRemaining[fi]! -= inj;
      fCcSent[fi]! += inj;
    }
    const base = this.fBase[fi]!;
    const end = base + this.fHops[fi]!;
    for (let e = base; e < end; e++) {
      const net = hopIn[e]! - hopOut[e]!;
      if (net !== 0) hopBacklog[e] = Math.max(0, hopBacklog[e]! + net * dt);
    }
    this.fDelivered[fi] = Math.min(this.fSize[fi]!, this.fDelivered[fi]! + hopOut[end - 1]! * dt);
  }

  private countPauseRefresh(p: number, t: number): void {
    const frames = Math.floor((t - this.xoffSince[p]!) / this.p.pfcRefreshUs);
    this.pfcTx[p]! += frames;
    this.xoffSince[p] = t;
  }

  private countRxRefresh(u: number, t: number): void {
    const frames = Math.floor((t - this.pausedSince[u]!) / this.p.pfcRefreshUs);
    this.pfcRx[u]! += frames;
    this.pausedSince[u] = t;
  }

  /** Counters that grow with time rather than with job traffic: background bytes, link errors, forced pauses. */
  accrueTimeCounters(): void {
    const dt = this.now - this.timeCountersAtUs;
    this.timeCountersAtUs = this.now;
    if (dt <= 0) return;
    for (let p = 0; p < this.cap.length; p++) {
      const f = this.capacityFactor[p]!;
      if (this.isScaleUp[p] || !this.operUp[p]) continue;
      if (this.backgroundLoad > 0) this.backgroundTxBytes[p]! += this.backgroundLoad * this.nominal[p]! * f * dt;
      // A degraded link shows FEC/CRC errors roughly in proportion to how bad it is.
      if (f < 1) this.linkErrors[p]! += (1 - f) * 0.05 * dt;
    }
  }

  /** Port p's counters now, as an object (a counter row and a histogram row: readCounters). */
  counters(p: number): PortCounters {
    const row = new Float64Array(PORT_COUNTER_FIELDS.length);
    const hist = new Float64Array(this.nBins);
    this.readCounters(Int32Array.of(p), row, hist);
    const out = {} as Record<string, unknown>;
    PORT_COUNTER_FIELDS.forEach((field, i) => (out[field] = field === 'oper_up' ? row[i] === 1 : row[i]));
    out.egress_histogram = Array.from(hist);
    return out as unknown as PortCounters;
  }

  /**
   * Writes the counters of `ports` now, row k for ports[k]: into `rows` (PORT_COUNTER_FIELDS
   * order, PORT_COUNTER_FIELDS.length per row) and their egress histograms since the last
   * snapshot into `hist` (EGRESS_HISTOGRAM_BOUNDS + 1 bins per row). Typed rows a whole round of
   * 3,072 ports fills without an object per port, one field at a time over all ports.
   */
  readCounters(ports: Int32Array, rows: Float64Array, hist: Float64Array): void {
    const n = ports.length;
    // Refresh frames of pauses still running, up to now.
    for (let k = 0; k < n; k++) {
      const p = ports[k]!;
      if (this.xoff[p] || this.forcedXoff[p]) this.countPauseRefresh(p, this.now);
      if (this.pauseShare[p]! > 0) this.countRxRefresh(p, this.now);
    }
    const bins = this.nBins;
    const { histogram, histAccountedUs } = this;
    for (let k = 0; k < n; k++) {
      const base = ports[k]! * bins;
      const at = k * bins;
      // Time since the port's last accounted segment is spent empty: it goes to bin 0.
      hist[at] = Math.round(histogram[base]! + Math.max(0, this.now - (this.histSnapshotUs + histAccountedUs[ports[k]!]!)));
      for (let b = 1; b < bins; b++) hist[at + b] = Math.round(histogram[base + b]!);
    }
    const w = PORT_COUNTER_FIELDS.length;
    const mtu = this.p.mtuBytes;
    const { txBytes, backgroundTxBytes, ecnMarked, pfcTx, pfcRx, pauseUs, pauseTxUs, linkErrors, creditStallUs, replays, queue, watermark } = this;
    for (let k = 0; k < n; k++) {
      const p = ports[k]!;
      const at = k * w;
      const tx = txBytes[p]! + backgroundTxBytes[p]!;
      rows[at] = Math.round(tx);
      rows[at + 1] = Math.round(tx / mtu);
      rows[at + 2] = Math.floor(ecnMarked[p]!);
      rows[at + 3] = Math.floor(pfcTx[p]!);
      rows[at + 4] = Math.floor(pfcRx[p]!);
      rows[at + 5] = Math.round(pauseUs[p]!);
      rows[at + 6] = Math.round(pauseTxUs[p]!);
      rows[at + 7] = Math.floor(linkErrors[p]!);
      rows[at + 8] = Math.floor(linkErrors[p]! * 3);
      rows[at + 9] = Math.round(creditStallUs[p]!);
      rows[at + 10] = this.isScaleUp[p] ? this.credit[p]!.credits : 0;
      rows[at + 11] = Math.floor(replays[p]!);
      rows[at + 12] = Math.round(queue[p]!);
      rows[at + 13] = Math.round(watermark[p]!);
      rows[at + 14] = this.operUp[p] === 1 ? 1 : 0;
      rows[at + 15] = this.carrierChanges[p]!;
    }
  }

  private histSnapshotUs = 0;

  /** Periodic watermark and histogram: the peak since the last snapshot, then restart. */
  resetWatermarks(): void {
    this.watermark.set(this.queue);
    this.histogram.fill(0);
    this.histAccountedUs.fill(0);
    this.histSnapshotUs = this.now;
    this.snapshotCount++;
  }

  // ---- phase replay (simulator/phase-replay.ts) --------------------------------------------

  private activityCache: Float64Array[] | undefined;

  /**
   * What a collective phase adds to one port, in activity-vector order: the cumulative counters,
   * then the queue (additive too: a phase starts and ends on an empty queue), then the
   * egress-histogram bins of the current snapshot interval.
   */
  private activityCounters(): Float64Array[] {
    return (this.activityCache ??= [this.txBytes, this.ecnMarked, this.pfcTx, this.pfcRx, this.pauseUs, this.pauseTxUs, this.creditStallUs, this.replays, this.histAccountedUs, this.queue]);
  }

  /** Length of one port's activity vector (readPortActivity). */
  get activityWidth(): number {
    return this.activityCounters().length + this.nBins;
  }

  /** Writes port p's activity vector at `out[at…]`. */
  readPortActivity(p: number, out: Float64Array, at: number): void {
    const counters = this.activityCounters();
    for (let i = 0; i < counters.length; i++) out[at + i] = counters[i]![p]!;
    const base = p * this.nBins;
    for (let b = 0; b < this.nBins; b++) out[at + counters.length + b] = this.histogram[base + b]!;
  }

  /** Adds an activity-vector delta (`delta[at…]`) to port p: a replayed phase's progress. */
  addPortActivity(p: number, delta: Float64Array, at: number): void {
    const counters = this.activityCounters();
    for (let i = 0; i < counters.length; i++) counters[i]![p]! += delta[at + i]!;
    if (this.queue[p]! < 0) this.queue[p] = 0;
    const base = p * this.nBins;
    for (let b = 0; b < this.nBins; b++) this.histogram[base + b]! += delta[at + counters.length + b]!;
  }

  /** Adds `value` to field `field` of port p's activity vector (one entry of addPortActivity). */
  addPortActivityField(p: number, field: number, value: number): void {
    const counters = this.activityCounters();
    if (field < counters.length) {
      counters[field]![p]! += value;
      if (this.queue[p]! < 0) this.queue[p] = 0;
    } else this.histogram[p * this.nBins + field - counters.length]! += value;
  }

  /**
   * Each port's peak queue since markStretch(p): what a recording measures its checkpoint
   * stretches with, apart from the periodic watermark that telemetry restarts.
   */
  private readonly stretchPeak: Float64Array;

  /** Starts a new stretch on port p; returns the peak queue of the one that ends. */
  markStretch(p: number): number {
    const peak = this.stretchPeak[p]!;
    this.stretchPeak[p] = this.queue[p]!;
    return peak;
  }

  /**
   * Snapshots taken so far: each restarts the periodic watermarks and the egress histograms
   * (resetWatermarks), which a recording in progress must rebase on.
   */
  get snapshotsTaken(): number {
    return this.snapshotCount;
  }
  private snapshotCount = 0;

  /** Activity-vector fields a snapshot restarts from zero: histogram time and bins. */
  get snapshotRestartedFields(): number[] {
    const counters = this.activityCounters();
    const fields = [counters.indexOf(this.histAccountedUs)];
    for (let b = 0; b < this.nBins; b++) fields.push(counters.length + b);
    return fields;
  }

  /** Raises port p's periodic watermark to `bytes` (the peak of a replayed stretch). */
  raiseWatermark(p: number, bytes: number): void {
    if (bytes > this.watermark[p]!) this.watermark[p] = bytes;
  }

  /** Width of a port's conditions (portConditions). */
  static readonly CONDITION_WIDTH = 5;

  /** What fixes how port p carries traffic now (capacity, oper state, storm, credits), at `out[at…]`. */
  portConditions(p: number, out: Float64Array, at: number): void {
    out[at] = this.cap[p]!;
    out[at + 1] = this.capacityFactor[p]!;
    out[at + 2] = this.operUp[p]!;
    out[at + 3] = this.forcedXoff[p]!;
    out[at + 4] = this.creditSeverity[p]!;
  }

  private idleStamp: Int32Array | undefined;
  private idleGen = 0;

  /**
   * True when nothing moves on these ports and NICs: no live flow crosses them, no queue, no
   * PAUSE sent, received or on its way, no storm. Then a phase started on them runs as it would
   * from a fresh fabric (up to the congestion-control grid, see phase-replay.ts), and marks its
   * queues took before their flows all finished are dropped (settled), not charged to the next
   * flows' first congestion-control update.
   */
  settleIfIdle(ports: Int32Array, nics: Int32Array): boolean {
    const stamp = (this.idleStamp ??= new Int32Array(this.queue.length));
    const gen = ++this.idleGen;
    for (let i = 0; i < ports.length; i++) stamp[ports[i]!] = gen;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i]!;
      if (this.queue[p]! > EPS_BYTES || this.xoff[p] || this.forcedXoff[p] || this.pauseShare[p]! > 0) return false;
    }
    for (let i = 0; i < nics.length; i++) {
      const k = nics[i]!;
      if (this.nicPauseShare[k]! > 0 || this.forcedNicPause[k]) return false;
    }
    for (const e of this.pendingPause) if (stamp[e.port] === gen) return false;
    const { fBase, fHops, fDead, hopPort } = this;
    for (let r = 0; r < this.flows.length; r++) {
      if (fDead[r]) continue;
      const end = fBase[r]! + fHops[r]!;
      for (let e = fBase[r]!; e < end; e++) if (stamp[hopPort[e]!] === gen) return false;
    }
    for (let i = 0; i < ports.length; i++) this.markIntegralAtCc[ports[i]!] = this.markIntegral[ports[i]!]!;
    return true;
  }

  /** Current service rate of a port (bytes/µs) and arrival rate, for tests and tools. */
  rates(p: number): { arrival: number; service: number; capacity: number; paused: boolean } {
    return { arrival: this.lam[p]!, service: this.srv[p]!, capacity: this.cap[p]!, paused: this.pauseShare[p]! > 0 };
  }
}

/**
 * Sorts the first `count` rows of `rows` ascending in place. Most events check a few dozen rows:
 * an insertion sort then beats a typed-array sort (and the subarray it needs).
 */
function sortRows(rows: Int32Array, count: number): void {
  if (count > 64) {
    rows.subarray(0, count).sort();
    return;
  }
  for (let i = 1; i < count; i++) {
    const r = rows[i]!;
    let j = i - 1;
    while (j >= 0 && rows[j]! > r) {
      rows[j + 1] = rows[j]!;
      j--;
    }
    rows[j + 1] = r;
  }
}

/** A copy of a typed array (of the same type) with room for `size` entries. */
function grownArray<T extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(list: T, size: number): T {
  const grown = new (list.constructor as new (length: number) => T)(size);
  grown.set(list);
  return grown;
}
