/**
 * The in-process bus (embedded default). Each (topic, group) has its own FIFO; a group's
 * handler runs one batch at a time, so a stage sees its records in publish order. Bounded:
 * when any group of a topic holds more than `capacity` records, publish waits briefly for
 * room and then rejects with BackpressureError instead of growing memory without bound.
 */
import type { BatchHandler, Bus, BusStats, SubscribeOptions, Subscription } from '../core/bus.js';
import { BackpressureError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { TOPICS, type Topic, type TopicRecords } from '../core/records.js';

interface GroupQueue {
  topic: Topic;
  group: string;
  handler: BatchHandler<Topic>;
  queue: TopicRecords[Topic][][];
  queued: number;
  running: boolean;
  closed: boolean;
  idle: Array<() => void>;
  lingerMs: number;
  /** Closing: hand over what is queued without lingering. */
  flushing: boolean;
  /** Ends the current linger early (a full batch arrived, or drain was asked for). */
  endLinger?: () => void;
}

export interface MemoryBusOptions {
  /** Records a group may hold before publishers are pushed back. */
  capacity?: number;
  /** How long publish waits for room before rejecting. */
  publishWaitMs?: number;
  /** Largest batch handed to a handler at once. */
  maxBatch?: number;
  logger?: Logger;
}

export class MemoryBus implements Bus {
  private readonly groups = new Map<string, GroupQueue>();
  private readonly published = Object.fromEntries(TOPICS.map((t) => [t, 0])) as Record<Topic, number>;
  private readonly capacity: number;
  private readonly publishWaitMs: number;
  private readonly maxBatch: number;
  private readonly logger?: Logger;
  private roomWaiters: Array<() => void> = [];
  private closed = false;
  /** While a drain waits, nobody lingers. */
  private draining = 0;

  constructor(options: MemoryBusOptions = {}) {
    this.capacity = options.capacity ?? 200_000;
    this.publishWaitMs = options.publishWaitMs ?? 2_000;
    this.maxBatch = options.maxBatch ?? 5_000;
    this.logger = options.logger;
  }

  async publish<T extends Topic>(topic: T, records: TopicRecords[T][]): Promise<void> {
    if (this.closed) throw new BackpressureError('bus is closed');
    if (records.length === 0) return;
    const deadline = Date.now() + this.publishWaitMs;
    while (this.fullest(topic) + records.length > this.capacity && this.fullest(topic) > 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new BackpressureError(`bus topic ${topic} is full (${this.fullest(topic)} records waiting)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.roomWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.published[topic] += records.length;
    for (const g of this.groups.values()) {
      if (g.topic !== topic || g.closed) continue;
      g.queue.push(records);
      g.queued += records.length;
      if (g.queued >= this.maxBatch) g.endLinger?.();
      this.pump(g);
    }
  }

  subscribe<T extends Topic>(topic: T, group: string, handler: BatchHandler<T>, options: SubscribeOptions = {}): Subscription {
    const key = `${topic}/${group}`;
    if (this.groups.has(key)) throw new Error(`group ${group} already subscribed to ${topic} in this process`);
    const g: GroupQueue = {
      topic,
      group,
      handler: handler as BatchHandler<Topic>,
      queue: [],
      queued: 0,
      running: false,
      closed: false,
      idle: [],
      lingerMs: options.lingerMs ?? 0,
      flushing: false,
    };
    this.groups.set(key, g);
    return {
      close: async () => {
        g.flushing = true;
        g.endLinger?.();
        await this.idleOf(g);
        g.closed = true;
        this.groups.delete(key);
      },
      // The batch in hand has left the queue: what is queued is what comes after it.
      hasBacklog: () => g.queue.length > 0,
    };
  }

  async drain(): Promise<void> {
    this.draining++;
    try {
      // Handlers may publish downstream while we wait, so loop until a full pass finds all idle.
      for (;;) {
        const busy = [...this.groups.values()].filter((g) => g.running || g.queued > 0);
        if (busy.length === 0) return;
        for (const g of busy) g.endLinger?.();
        await Promise.all(busy.map((g) => this.idleOf(g)));
      }
    } finally {
      this.draining--;
    }
  }

  stats(): BusStats {
    const lag: Record<string, number> = {};
    for (const [key, g] of this.groups) lag[key] = g.queued;
    return { published: { ...this.published }, lag };
  }

  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
  }

  private fullest(topic: Topic): number {
    let max = 0;
    for (const g of this.groups.values()) if (g.topic === topic && g.queued > max) max = g.queued;
    return max;
  }

  private idleOf(g: GroupQueue): Promise<void> {
    if (!g.running && g.queued === 0) return Promise.resolve();
    return new Promise((resolve) => g.idle.push(resolve));
  }

  private linger(g: GroupQueue): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => g.endLinger?.(), g.lingerMs);
      g.endLinger = () => {
        clearTimeout(timer);
        g.endLinger = undefined;
        resolve();
      };
    });
  }

  private pump(g: GroupQueue): void {
    if (g.running) return;
    g.running = true;
    void (async () => {
      while (g.queue.length > 0) {
        if (g.lingerMs > 0 && g.queued < this.maxBatch && this.draining === 0 && !g.flushing) await this.linger(g);
        const batch: TopicRecords[Topic][] = [];
        while (g.queue.length > 0 && batch.length + g.queue[0]!.length <= this.maxBatch) {
          batch.push(...g.queue.shift()!);
        }
        if (batch.length === 0) batch.push(...g.queue.shift()!);
        try {
          await g.handler(batch);
        } catch (e) {
          // A stage that throws keeps its place: the error is logged and the stage goes on,
          // as a crashing consumer would be restarted. Stages handle their own retries.
          this.logger?.error('bus handler failed', { topic: g.topic, group: g.group, error: (e as Error).message });
        }
        g.queued -= batch.length;
        const waiters = this.roomWaiters;
        this.roomWaiters = [];
        for (const w of waiters) w();
      }
      g.running = false;
      const idle = g.idle;
      g.idle = [];
      for (const r of idle) r();
    })();
  }
}
