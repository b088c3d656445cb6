/**
 * dcgm-exporter targets files (`--scrape-file`). Accepted forms: one URL or `host:port` per
 * line (`#` comments allowed), a YAML/JSON list of targets, or Prometheus file_sd
 * (`[{ "targets": ["node-0:9400", …], "labels": {…} }]`), so an existing Prometheus
 * service-discovery file can be pointed at directly. A file_sd group's `Hostname`,
 * `hostname` or `node` label names the host of GPUs whose exporter does not say it.
 *
 * ScrapeTargetsFile keeps such a file's targets current: it is re-read when it changes
 * (fs.watch on its directory, so editors' and config managers' rename-into-place is seen,
 * plus a periodic stat for file systems where watching is unreliable). Content that does
 * not parse is logged with its line and position, and the previous targets are kept.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { normaliseTarget } from './dcgm/dcgm-scraper.js';

export interface ScrapeTarget {
  /** Normalised: `http://node-0:9400/metrics`. */
  url: string;
  /** file_sd group labels ({} for plain lists). */
  labels: Record<string, string>;
}

/** Reads and parses a targets file; throws ConfigError naming the file, line and column. */
export function readScrapeTargets(file: string): ScrapeTarget[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read targets file: ${(e as Error).message}`, file);
  }
  return parseScrapeTargets(text, file);
}

export function parseScrapeTargets(text: string, file: string): ScrapeTarget[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('-')) return parseList(text, file);
  const out: ScrapeTarget[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line !== '') out.push({ url: target(line, `${file}:${i + 1}`), labels: {} });
  });
  return out;
}

function parseList(text: string, file: string): ScrapeTarget[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(`not valid YAML or JSON: ${e.message.split('\n')[0]}`, at(e.pos[0]));
  }
  const root = doc.contents;
  if (!isSeq(root)) throw new ConfigError('must be a list of targets', at(root?.range?.[0]));
  const out: ScrapeTarget[] = [];
  root.items.forEach((item, i) => {
    const where = at((item as { range?: [number, number, number] }).range?.[0]);
    const value = (item as { toJSON?: () => unknown }).toJSON?.() ?? item;
    if (typeof value === 'string') {
      out.push({ url: target(value, where), labels: {} });
      return;
    }
    if (!isMap(item)) throw new ConfigError(`entry ${i}: must be a target string or {targets: [...], labels: {...}}`, where);
    const group = value as { targets?: unknown; labels?: unknown };
    if (!Array.isArray(group.targets) || !group.targets.every((t) => typeof t === 'string')) {
      throw new ConfigError(`entry ${i}: "targets" must be a list of strings`, where);
    }
    const labels = group.labels ?? {};
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
      throw new ConfigError(`entry ${i}: "labels" must map names to strings`, where);
    }
    for (const t of group.targets as string[]) out.push({ url: target(t, where), labels: labels as Record<string, string> });
  });
  return out;
}

function target(text: string, where: string): string {
  try {
    return normaliseTarget(text);
  } catch {
    throw new ConfigError(`"${text}" is not a URL or host:port`, where);
  }
}

const SETTLE_MS = 100;

export interface ScrapeTargetsFileOptions {
  file: string;
  /** Called with the new targets whenever the file's valid content changes. */
  onChange: (targets: ScrapeTarget[]) => void;
  logger: Logger;
  /** Stat fallback interval; default 5000 ms. */
  checkIntervalMs?: number;
}

export class ScrapeTargetsFile {
  private readonly file: string;
  private readonly onChange: (targets: ScrapeTarget[]) => void;
  private readonly log: Logger;
  private readonly checkIntervalMs: number;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private settle?: NodeJS.Timeout;
  /** Size, mtime and inode last seen; the stat fallback re-reads only when it moves. */
  private signature = '';
  /** The text the current targets came from. */
  private text?: string;
  private reloading?: Promise<void>;
  private again = false;
  /** Reloads done (for tests and stats), and failed ones. */
  reloads = 0;
  failures = 0;

  constructor(options: ScrapeTargetsFileOptions) {
    this.file = options.file;
    this.onChange = options.onChange;
    this.log = options.logger;
    this.checkIntervalMs = options.checkIntervalMs ?? 5_000;
  }

  /** Reads the file now (throws ConfigError when it is unreadable or invalid) and starts watching it. */
  start(): ScrapeTarget[] {
    const text = readFileSync(this.file, 'utf8');
    const targets = parseScrapeTargets(text, this.file);
    this.text = text;
    void stat(this.file).then((s) => (this.signature ||= signatureOf(s)), () => undefined);
    try {
      const name = basename(this.file);
      this.watcher = watch(dirname(this.file), (_event, changed) => {
        if (changed === null || changed === name) this.settleThenReload();
      });
      this.watcher.on('error', (e) => this.log.warn('cannot watch the targets file; checking it periodically', { file: this.file, error: e.message }));
    } catch (e) {
      this.log.warn('cannot watch the targets file; checking it periodically', { file: this.file, error: (e as Error).message });
    }
    this.timer = setInterval(() => void this.checkStat(), this.checkIntervalMs);
    this.timer.unref();
    return targets;
  }

  /**
   * A change event can come mid-write (after the truncation, before the content): wait for
   * the events to stop for a moment before reading.
   */
  private settleThenReload(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), SETTLE_MS);
    this.settle.unref();
  }

  stop(): Promise<void> {
    clearTimeout(this.settle);
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    return this.reloading ?? Promise.resolve();
  }

  /** Re-reads the file; concurrent triggers collapse into one more read. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.readOnce().finally(() => {
      this.reloading = undefined;
      if (this.again && this.timer) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  private async checkStat(): Promise<void> {
    try {
      if (signatureOf(await stat(this.file)) !== this.signature) await this.reload();
    } catch {
      // Missing for now (being replaced): the next check or event retries.
    }
  }

  private async readOnce(): Promise<void> {
    let text: string;
    try {
      const s = await stat(this.file);
      text = await readFile(this.file, 'utf8');
      this.signature = signatureOf(s);
    } catch (e) {
      this.log.warn('cannot read the targets file; keeping the previous targets', { file: this.file, error: (e as Error).message });
      return;
    }
    if (text === this.text) return;
    let targets: ScrapeTarget[];
    try {
      targets = parseScrapeTargets(text, this.file);
    } catch (e) {
      this.failures++;
      this.text = text; // logged once, not at every check
      this.log.warn('targets file not usable; keeping the previous targets', { error: (e as Error).message });
      return;
    }
    this.text = text;
    this.reloads++;
    this.log.info('targets file reloaded', { file: this.file, targets: targets.length });
    this.onChange(targets);
  }
}

function signatureOf(s: { size: number; mtimeMs: number; ino: number }): string {
  return `${s.size}:${s.mtimeMs}:${s.ino}`;
}
