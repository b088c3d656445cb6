/**
 * Test harness: a real Alertmanager (Debian's `prometheus-alertmanager`, or `alertmanager` from
 * upstream) on 127.0.0.1 with a free port, a temporary storage path and a minimal config; and a
 * webhook recorder, an HTTP server that keeps every notification Alertmanager (or fabricscope)
 * sends it. Install the binary with `node dist/cli/setup.js --for test`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARIES = ['alertmanager', 'prometheus-alertmanager'];

/** The Alertmanager binary on PATH, or undefined when none is installed. */
export function alertmanagerBinary(): string | undefined {
  return BINARIES.find((b) => spawnSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status === 0);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** An alert as Alertmanager's `GET /api/v2/alerts` returns it (the fields tests look at). */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed' };
}

export interface RunningAlertmanager {
  url: string;
  /** Active alerts (Alertmanager leaves resolved ones out). */
  alerts(): Promise<AmAlert[]>;
  stop(): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Where Alertmanager sends notifications (a webhook receiver with send_resolved). */
  webhookUrl?: string;
  /** Listen on this port (e.g. one a client was already retrying against); default: a free one. */
  port?: number;
}

export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<RunningAlertmanager> {
  const binary = alertmanagerBinary();
  if (!binary) throw new Error('no Alertmanager installed: run `node dist/cli/setup.js --for test` (Debian package prometheus-alertmanager)');
  const dir = mkdtempSync(join(tmpdir(), 'fabricscope-alertmanager-'));
  const port = options.port ?? (await freePort());
  const receiver = options.webhookUrl
    ? `receivers:\n  - name: test\n    webhook_configs:\n      - url: ${JSON.stringify(options.webhookUrl)}\n        send_resolved: true\n`
    : `receivers:\n  - name: test\n`;
  // Short group timers so notifications follow the alerts promptly in tests.
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:\n  receiver: test\n  group_by: ['alertname']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n${receiver}`,
  );
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', // no gossip: a single instance on loopback
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, () => stderr);
  return {
    url,
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status}`);
      return (await res.json()) as AmAlert[];
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited with ${child.exitCode}: ${stderr().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error(`alertmanager not ready: ${stderr().slice(-2000)}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** An HTTP server that records every JSON body POSTed to it; can be told to fail for a while. */
export interface WebhookRecorder {
  url: string;
  received: unknown[];
  /** Answer this status to every request until set back to undefined (simulates an outage). */
  failWith?: number;
  /** Resolves once `predicate` holds over what was received, or rejects after `timeoutMs`. */
  waitFor(predicate: (received: unknown[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const waiters: Array<() => void> = [];
  let server: Server;
  const recorder: WebhookRecorder = {
    url: '',
    received: [],
    waitFor(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(recorder.received)) return false;
          clearTimeout(timer);
          resolve();
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`webhook condition not met; received ${JSON.stringify(recorder.received).slice(0, 2000)}`)), timeoutMs);
        const waiter = (): void => {
          if (!check()) waiters.push(waiter);
        };
        waiter();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (recorder.failWith !== undefined) {
        res.writeHead(recorder.failWith).end();
        return;
      }
      try {
        recorder.received.push(JSON.parse(body));
      } catch {
        recorder.received.push(body);
      }
      res.writeHead(200).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return recorder;
}
