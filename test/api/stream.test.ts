/**
 * GET /api/v1/stream over a real socket, read by a real HTTP client: events as they are
 * published, type filtering, heartbeats, auth, the client cap, and cleanup when a client
 * leaves or the server closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer, type ApiServer, type ApiServerOptions, type ListeningServer } from '../../api/server.js';
import type { ApiEvent, ApiEventSource } from '../../api/events.js';
import { createStore } from '../../storage/create-store.js';
import type { ClickHouseStore } from '../../storage/clickhouse-store.js';
import { createLogger } from '../../core/log.js';
import { T0, alert, stall, tempDataDir } from '../storage/fixtures.js';

/** The event source the platform would feed from the bus. */
class EventFeed implements ApiEventSource {
  readonly listeners = new Set<(e: ApiEvent) => void>();
  subscribe(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }
}

/** Reads an SSE response incrementally and splits it into messages (blank-line separated). */
class StreamReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
  }
  /** The next message, waiting for it; undefined when the stream ended. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const message = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return message;
      }
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }
  /** The next message that is an event (skipping heartbeats and comments). */
  async nextEvent(): Promise<{ event: string; id: string; data: any } | undefined> {
    for (;;) {
      const m = await this.next();
      if (m === undefined) return undefined;
      const fields = Object.fromEntries(
        m.split('\n').filter((l) => !l.startsWith(':') && l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
      );
      if (fields.event) return { event: fields.event, id: fields.id, data: JSON.parse(fields.data) };
    }
  }
  cancel(): Promise<void> {
    return this.reader.cancel();
  }
}

/** Waits for a condition another party makes true (no timing assumption, just a bound). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let store: ClickHouseStore;
const servers: ListeningServer[] = [];

async function start(options: Partial<ApiServerOptions> = {}): Promise<{ api: ApiServer; server: ListeningServer; feed: EventFeed }> {
  const feed = new EventFeed();
  const api = createApiServer({ store, logger: createLogger('silent'), events: feed, ...options });
  const server = await api.listen('127.0.0.1', 0);
  servers.push(server);
  return { api, server, feed };
}

const open = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return new StreamReader(res);
};

beforeAll(async () => {
  store = createStore({ data: tempDataDir('stream') });
  await store.migrate();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await store?.close();
});

describe('GET /api/v1/stream', () => {
  it('streams new stalls and alert changes as they are published', async () => {
    const { server, feed } = await start();
    const stream = await open(`${server.url}/api/v1/stream`);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.response.headers.get('cache-control')).toContain('no-store');
    expect(await stream.next()).toBe('retry: 3000\n: connected');
    await until(() => feed.listeners.size === 1, 'the subscription');

    feed.publish({ type: 'stall', data: stall(7) });
    feed.publish({ type: 'alert', data: alert('a1', 'firing', T0 + 6000) });
    feed.publish({ type: 'alert', data: alert('a1', 'resolved', T0 + 9000) });
    const first = await stream.nextEvent();
    expect(first).toMatchObject({ event: 'stall', data: { id: 'train-a:7', start: '2026-01-01T00:00:07.000Z', root_cause: { kind: 'incast_congestion' } } });
    // The same shape as the listing: no ranks in the summary.
    expect(first!.data.ranks).toBeUndefined();
    const firing = await stream.nextEvent();
    const resolved = await stream.nextEvent();
    expect([firing!.event, firing!.data.state, resolved!.data.state, resolved!.data.endsAt]).toEqual(['alert', 'firing', 'resolved', '2026-01-01T00:00:09.000Z']);
    expect(Number(resolved!.id)).toBeGreaterThan(Number(firing!.id));
    await stream.cancel();
  });

  it('filters by type, and rejects unknown types', async () => {
    const { server, feed } = await start();
    const stream = await open(`${server.url}/api/v1/stream?types=alert`);
    await until(() => feed.listeners.size === 1, 'the subscription');
    feed.publish({ type: 'stall', data: stall(8) });
    feed.publish({ type: 'alert', data: alert('a2', 'pending', T0) });
    expect(await stream.nextEvent()).toMatchObject({ event: 'alert', data: { id: 'a2' } });
    await stream.cancel();

    for (const [qs, where] of [
      ['types=stalls', 'query.types.0'],
      ['types=', 'query.types'],
      ['types=stall,x', 'query.types.1'],
      ['since=0', 'query.since'],
    ]) {
      const res = await fetch(`${server.url}/api/v1/stream?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(((await res.json()) as any).error.where).toBe(where);
    }
  });

  it('sends heartbeats while idle', async () => {
    const { server } = await start({ stream: { heartbeatMs: 20 } });
    const stream = await open(`${server.url}/api/v1/stream`);
    await stream.next(); // retry + connected
    expect(await stream.next()).toBe(': heartbeat');
    await stream.cancel();
  });

  it('unsubscribes and stops counting a client that disconnects', async () => {
    const { api, server, feed } = await start({ stream: { heartbeatMs: 20 } });
    const streams = await Promise.all([open(`${server.url}/api/v1/stream`), open(`${server.url}/api/v1/stream`)]);
    await until(() => feed.listeners.size === 2, 'two subscriptions');
    expect(api.telemetry.render()).toMatch(/^fabricscope_stream_clients 2$/m);
    await streams[0]!.cancel();
    await until(() => feed.listeners.size === 1, 'the first client to be cleaned up');
    expect(api.streams!.clients).toBe(1);
    // The remaining client still gets events.
    feed.publish({ type: 'stall', data: stall(9) });
    expect((await streams[1]!.nextEvent())?.data.id).toBe('train-a:9');
    await streams[1]!.cancel();
    await until(() => feed.listeners.size === 0, 'every client to be cleaned up');
    expect(api.telemetry.render()).toMatch(/^fabricscope_stream_clients 0$/m);
    expect(api.telemetry.render()).toMatch(/^fabricscope_stream_events_total\{type="stall"\} 1$/m);
  });

  it('caps concurrent clients with a 503 and Retry-After', async () => {
    const { server, feed } = await start({ stream: { maxClients: 1 } });
    const first = await open(`${server.url}/api/v1/stream`);
    await until(() => feed.listeners.size === 1, 'the subscription');
    const second = await fetch(`${server.url}/api/v1/stream`);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(((await second.json()) as any).error.code).toBe('BACKPRESSURE');
    await first.cancel();
  });

  it('needs the bearer token like every data route', async () => {
    const { server, feed } = await start({ apiTokens: ['stream-token'] });
    expect((await fetch(`${server.url}/api/v1/stream`)).status).toBe(401);
    const stream = await open(`${server.url}/api/v1/stream`, { headers: { authorization: 'Bearer stream-token' } });
    expect(stream.response.status).toBe(200);
    await until(() => feed.listeners.size === 1, 'the subscription');
    await stream.cancel();
  });

  it('also takes the token as ?access_token= (EventSource sends no headers), on this route only', async () => {
    const { server, feed } = await start({ apiTokens: ['stream-token'] });
    expect((await fetch(`${server.url}/api/v1/stream?access_token=wrong`)).status).toBe(401);
    const stream = await open(`${server.url}/api/v1/stream?types=stall&access_token=stream-token`);
    expect(stream.response.status).toBe(200);
    await until(() => feed.listeners.size === 1, 'the subscription');
    feed.publish({ type: 'stall', data: stall(7) });
    expect((await stream.nextEvent())?.data.id).toBe('train-a:7');
    await stream.cancel();
    // Every other route wants the header: a token in a URL goes no further than the stream.
    expect((await fetch(`${server.url}/api/v1/stalls?access_token=stream-token`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/v1/stream?access_token=stream-token`, { method: 'POST' })).status).toBe(401);
  });

  it('is a 404 on a server without a live event source', async () => {
    const server = await createApiServer({ store, logger: createLogger('silent') }).listen('127.0.0.1', 0);
    servers.push(server);
    const res = await fetch(`${server.url}/api/v1/stream`);
    expect(res.status).toBe(404);
  });

  it('server close ends open streams instead of hanging', async () => {
    const feed = new EventFeed();
    const server = await createApiServer({ store, logger: createLogger('silent'), events: feed }).listen('127.0.0.1', 0);
    const stream = await open(`${server.url}/api/v1/stream`);
    await until(() => feed.listeners.size === 1, 'the subscription');
    await server.close();
    expect(feed.listeners.size).toBe(0);
    await stream.next(); // retry + connected
    expect(await stream.next()).toBeUndefined(); // the stream ended
  });
});
