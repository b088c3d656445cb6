/**
 * Server-Sent Events clients of one API server. Each client has its own subscription to the
 * event source, a heartbeat (a comment line, so proxies and browsers keep the connection and
 * a dead peer is noticed) and is cleaned up however it ends: the client leaving, a write
 * failing, it reading too slowly, or the server closing.
 */
import type { Request, Response } from 'express';
import type { Logger } from '../core/log.js';
import type { ApiEvent, ApiEventSource, ApiEventType } from './events.js';
import type { ApiTelemetry } from './telemetry.js';
import { alertView, stallSummaryView } from './views.js';

export interface StreamOptions {
  /** Interval of heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  /** Concurrent stream clients (default 100); more get a 503. */
  maxClients?: number;
  /** Bytes a client may leave unread before it is disconnected (default 1 MiB). */
  maxBufferedBytes?: number;
}

/** Browsers reconnect after this long when the stream drops. */
const RECONNECT_MS = 3000;

const payloadOf = (event: ApiEvent): unknown => (event.type === 'stall' ? stallSummaryView(event.data) : alertView(event.data));

export class StreamHub {
  readonly heartbeatMs: number;
  readonly maxClients: number;
  private readonly maxBufferedBytes: number;
  private readonly closers = new Set<() => void>();
  private nextId = 1;

  constructor(
    private readonly source: ApiEventSource,
    private readonly telemetry: ApiTelemetry,
    private readonly logger: Logger,
    options: StreamOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxClients = options.maxClients ?? 100;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
  }

  get clients(): number {
    return this.closers.size;
  }

  get full(): boolean {
    return this.closers.size >= this.maxClients;
  }

  /** Turns the response into an event stream until either side ends it. */
  serve(req: Request, res: Response, types: ReadonlySet<ApiEventType>): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store, no-transform');
    // nginx and similar proxies would otherwise buffer the stream.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: ${RECONNECT_MS}\n: connected\n\n`);

    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      this.closers.delete(close);
      this.telemetry.streamClients.add(-1);
      if (!res.writableEnded) res.end();
    };
    const send = (chunk: string): void => {
      if (closed) return;
      res.write(chunk);
      // A client that stopped reading must not make us buffer the bus for it forever.
      if (res.writableLength > this.maxBufferedBytes) {
        this.telemetry.streamDropped.inc({});
        this.logger.warn('stream client too slow, disconnected', { buffered: res.writableLength });
        close();
        res.destroy();
      }
    };

    const unsubscribe = this.source.subscribe((event) => {
      if (!types.has(event.type)) return;
      try {
        send(`event: ${event.type}\nid: ${this.nextId++}\ndata: ${JSON.stringify(payloadOf(event))}\n\n`);
        this.telemetry.streamEvents.inc({ type: event.type });
      } catch (e) {
        // The source calls us synchronously from the bus: never let one bad event escape.
        this.logger.warn('stream event not sent', { type: event.type, error: e instanceof Error ? e.message : String(e) });
      }
    });
    const heartbeat = setInterval(() => send(': heartbeat\n\n'), this.heartbeatMs);
    heartbeat.unref();

    this.closers.add(close);
    this.telemetry.streamClients.add(1);
    req.on('close', close);
    res.on('close', close);
    res.on('error', close);
  }

  /** Ends every stream (server shutdown): an open stream would keep the listener from closing. */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
