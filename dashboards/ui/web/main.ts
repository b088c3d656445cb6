/**
 * The shell of the built-in UI: navigation between the five views (plus a port's series),
 * the time range, the live stream, and the refresh loop. Routes live in the URL hash
 * (`#/stall/<id>?last=300`), so every view and range can be bookmarked and linked to.
 */
import { get, type Gpu, type PortEntry, type Stall, type UiConfig } from './api.js';
import { askForToken, storedToken } from './api-token.js';
import { ChartSet } from './charts.js';
import { clear, h } from './dom.js';
import { clock, dateTime, kindLabel } from './format.js';
import { setRangeQuery } from './links.js';
import { LiveStream, type LiveStatus } from './live.js';
import { PRESETS, rangeFromParams, rangeToParams, resolveRange, type TimeRange } from './time-range.js';
import type { MountedView, ViewContext, ViewDefinition } from './view.js';
import { alertsView } from './views/alerts.js';
import { determinismView } from './views/determinism.js';
import { fabricView } from './views/fabric.js';
import { gpusView } from './views/gpus.js';
import { portView } from './views/port.js';
import { stallView } from './views/stall.js';

const VIEWS: ViewDefinition[] = [fabricView, determinismView, stallView, gpusView, alertsView, portView];
const NAV: Array<[string, string]> = [
  ['fabric', 'Fabric'],
  ['jobs', 'Job determinism'],
  ['stall', 'Stall drill-down'],
  ['gpus', 'GPU health'],
  ['alerts', 'Alerts'],
];
/** How often a live range re-reads the series (stalls and alerts also arrive by SSE). */
const LIVE_REFRESH_MS = 5000;

interface Route {
  view: ViewDefinition;
  params: string[];
  range: TimeRange;
}

function parseRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = hash.split('?');
  const [name = 'fabric', ...rest] = path.split('/').map(decodeURIComponent);
  const view = VIEWS.find((v) => v.name === name) ?? fabricView;
  // Port and GPU names contain a `/`: the rest of the path is one parameter for them.
  const params = view.name === 'port' || view.name === 'gpus' ? (rest.length ? [rest.join('/')] : []) : rest;
  return { view, params, range: rangeFromParams(new URLSearchParams(query)) };
}

function routeHash(view: string, params: string[], range: TimeRange): string {
  return `#/${[view, ...params].join('/')}?${rangeToParams(range).toString()}`;
}

class Shell {
  private route = parseRoute();
  private mounted?: { view: ViewDefinition; params: string; instance: MountedView; charts: ChartSet };
  private controller?: AbortController;
  private refreshing?: Promise<void>;
  private queued = false;
  private head_ms = Date.now();
  private liveStatus: LiveStatus = 'offline';
  private liveStalls = 0;
  private refreshes = 0;
  private timer?: number;
  private eventTimer?: number;
  private drawnKey = '';

  private readonly main = h('main', { class: 'view', id: 'view' });
  private readonly nav = h('nav', { class: 'nav' });
  private readonly rangeSelect = h('select', { class: 'range-select', 'aria-label': 'Time range', id: 'range' });
  private readonly fromInput = h('input', { type: 'datetime-local', step: '1', class: 'range-input', 'aria-label': 'From (UTC)', id: 'range-from' });
  private readonly toInput = h('input', { type: 'datetime-local', step: '1', class: 'range-input', 'aria-label': 'To (UTC)', id: 'range-to' });
  private readonly status = h('span', { class: 'live-status', id: 'live-status' });
  private readonly headLabel = h('span', { class: 'head-label', id: 'data-head' });
  private readonly toasts = h('div', { class: 'toasts', id: 'toasts' });

  constructor(private readonly config: UiConfig) {}

  start(): void {
    for (const p of PRESETS) this.rangeSelect.append(h('option', { value: String(p.span_ms) }, p.label));
    this.rangeSelect.append(h('option', { value: 'custom' }, 'Custom range'));
    this.rangeSelect.addEventListener('change', () => {
      if (this.rangeSelect.value === 'custom') {
        const r = resolveRange(this.route.range, this.head_ms);
        this.setRange({ kind: 'absolute', from_ms: r.from_ms, to_ms: r.to_ms });
      } else this.setRange({ kind: 'last', span_ms: Number(this.rangeSelect.value) });
    });
    const applyInputs = () => {
      const from_ms = Date.parse(`${this.fromInput.value}Z`);
      const to_ms = Date.parse(`${this.toInput.value}Z`);
      if (Number.isFinite(from_ms) && Number.isFinite(to_ms) && to_ms > from_ms) this.setRange({ kind: 'absolute', from_ms, to_ms });
    };
    this.fromInput.addEventListener('change', applyInputs);
    this.toInput.addEventListener('change', applyInputs);

    document.body.append(
      h(
        'header',
        { class: 'topbar' },
        h('a', { class: 'brand', href: '#/fabric' }, h('span', { class: 'brand-mark' }), 'fabricscope'),
        this.nav,
        h('div', { class: 'range' }, this.rangeSelect, this.fromInput, h('span', { class: 'range-sep' }, '→'), this.toInput, h('span', { class: 'utc' }, 'UTC')),
        h('div', { class: 'status' }, this.status, this.headLabel),
      ),
      this.main,
      this.toasts,
    );

    if (this.config.live) {
      const live = new LiveStream();
      live.onStatus((s) => {
        this.liveStatus = s;
        this.renderStatus();
      });
      live.onEvent((e) => {
        if (e.type === 'stall') {
          this.liveStalls++;
          this.toast(e.data);
        }
        this.scheduleRefresh();
      });
      live.start();
    }
    this.renderStatus();
    window.addEventListener('hashchange', () => {
      this.route = parseRoute();
      void this.refresh();
    });
    void this.refresh();
  }

  private setRange(range: TimeRange): void {
    location.hash = routeHash(this.route.view.name, this.route.params, range);
  }

  private navigate(view: string, params: string[] = []): string {
    return routeHash(view, params, this.route.range);
  }

  private renderNav(): void {
    clear(this.nav);
    for (const [name, label] of NAV) {
      const active = this.route.view.name === name || (name === 'fabric' && this.route.view.name === 'port');
      this.nav.append(h('a', { href: this.navigate(name), class: active ? 'active' : undefined, 'data-nav': name }, label));
    }
  }

  private renderRangeControls(range: { from_ms: number; to_ms: number }): void {
    const r = this.route.range;
    this.rangeSelect.value = r.kind === 'last' && PRESETS.some((p) => p.span_ms === r.span_ms) ? String(r.span_ms) : 'custom';
    this.fromInput.value = new Date(range.from_ms).toISOString().slice(0, 19);
    this.toInput.value = new Date(range.to_ms).toISOString().slice(0, 19);
  }

  private renderStatus(): void {
    clear(this.status);
    const following = this.route.range.kind === 'last';
    const [text, tone] = !this.config.live ? ['Stored data', 'idle'] : this.liveStatus === 'live' ? [following ? 'Live' : 'Live · paused', following ? 'live' : 'idle'] : ['Connecting…', 'warn'];
    this.status.className = `live-status live-${tone}`;
    this.status.setAttribute('data-live-stalls', String(this.liveStalls));
    this.status.append(h('span', { class: 'dot' }), text);
    this.headLabel.textContent = `data to ${dateTime(this.head_ms)}`;
  }

  private toast(stall: Stall): void {
    const t = h(
      'a',
      { class: 'toast', href: this.navigate('stall', [stall.id]) },
      h('strong', {}, 'New stall'),
      ` ${stall.job} · ${kindLabel(stall.root_cause.kind)} @ ${stall.root_cause.location} · ${clock(Date.parse(stall.start))}`,
    );
    this.toasts.prepend(t);
    while (this.toasts.childElementCount > 4) this.toasts.lastElementChild?.remove();
    window.setTimeout(() => t.remove(), 8000);
  }

  /** Coalesces bursts of live events into at most one refresh a second. */
  private scheduleRefresh(): void {
    if (this.route.range.kind !== 'last' || this.eventTimer !== undefined) return;
    this.eventTimer = window.setTimeout(() => {
      this.eventTimer = undefined;
      void this.refresh();
    }, 1000);
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.queued = true;
      return this.refreshing;
    }
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined;
      if (this.queued) {
        this.queued = false;
        void this.refresh();
      }
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    window.clearTimeout(this.timer);
    const route = this.route;
    // A new view or range is 'loading' until drawn (set before any await, so the previous
    // view is never read as ready); a live refresh of what is shown keeps it 'ready'.
    const key = `${route.view.name}/${route.params.join('/')}?${rangeToParams(route.range).toString()}`;
    if (key !== this.drawnKey) this.main.setAttribute('data-state', 'loading');
    this.renderNav();
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.head_ms = await findHead(controller.signal).catch(() => this.head_ms);
    const range = resolveRange(route.range, this.head_ms);
    setRangeQuery(rangeToParams(route.range).toString());
    this.renderRangeControls(range);
    this.renderStatus();

    let portsCache: Promise<PortEntry[]> | undefined;
    const charts = this.mounted && this.mounted.view === route.view && this.mounted.params === route.params.join('/') ? this.mounted.charts : new ChartSet((from_ms, to_ms) => this.setRange({ kind: 'absolute', from_ms, to_ms }));
    const ctx: ViewContext = {
      params: route.params,
      range,
      head_ms: this.head_ms,
      charts,
      signal: controller.signal,
      ports: () =>
        (portsCache ??= get<{ ports: PortEntry[] }>('/api/v1/topology', { from: range.to_ms - 5 * 60_000, to: range.to_ms }, controller.signal).then(
          (r) => r.ports,
          () => [],
        )),
    };
    if (!this.mounted || this.mounted.view !== route.view || this.mounted.params !== route.params.join('/')) {
      this.mounted?.charts.disposeAll();
      clear(this.main);
      this.main.setAttribute('data-view', route.view.name);
      document.title = `${route.view.title} · fabricscope`;
      this.mounted = { view: route.view, params: route.params.join('/'), instance: route.view.mount(this.main, ctx), charts };
    }
    try {
      await this.mounted.instance.update(ctx);
      if (controller.signal.aborted) return;
      this.refreshes++;
      this.main.setAttribute('data-refreshes', String(this.refreshes));
      this.main.setAttribute('data-state', 'ready');
      this.drawnKey = key;
      this.main.querySelector('.view-error')?.remove();
    } catch (e) {
      if (controller.signal.aborted) return;
      this.main.setAttribute('data-state', 'error');
      this.main.querySelector('.view-error')?.remove();
      this.main.prepend(h('div', { class: 'view-error', role: 'alert' }, `Could not load: ${(e as Error).message}`));
    }
    if (this.config.live && route.range.kind === 'last') this.timer = window.setTimeout(() => void this.refresh(), LIVE_REFRESH_MS);
  }
}

/** The newest telemetry time the server has: the latest GPU scrape, else the latest stall. */
async function findHead(signal: AbortSignal): Promise<number> {
  const { gpus } = await get<{ gpus: Gpu[] }>('/api/v1/gpus', {}, signal);
  const latest = Math.max(...gpus.map((g) => Date.parse(g.last_seen)).filter(Number.isFinite));
  if (Number.isFinite(latest)) return latest;
  const { stalls } = await get<{ stalls: Stall[] }>('/api/v1/stalls', { limit: 1 }, signal);
  return stalls[0] ? Date.parse(stalls[0].end) : Date.now();
}

async function boot(): Promise<void> {
  const config = await get<UiConfig>('/ui/config.json').catch((): UiConfig => ({ live: false, auth: false, version: '' }));
  // Ask before the first data request rather than after a screen of refusals.
  if (config.auth && !storedToken()) return askForToken('This server requires an API token.');
  new Shell(config).start();
}

void boot();
