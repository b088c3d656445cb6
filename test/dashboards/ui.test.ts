/**
 * The built-in UI in headless Chromium over a played scenario (`fabricscope serve`): every
 * view loads without a console error or failed request and shows the scenario's data; a
 * stall opens its root cause; a port opens its series. Screenshots go to
 * test-output/screenshots/ for a human to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startCli, type Service } from '../harness/cli-process.js';
import { launchBrowser, type BrowserSession, type Page } from './browser.js';
import { playedScenarioCopy } from './played-scenario.js';

const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');
let api: Service;
let session: BrowserSession;
let page: Page;
let base: string;

/** Opens a view over the played minute and waits until it has drawn. */
async function open(route: string, view: string): Promise<void> {
  await page.goto(`${base}/#/${route}${route.includes('?') ? '' : '?last=60'}`);
  await waitReady(view);
}

async function waitReady(view: string): Promise<void> {
  await page.waitForSelector(`#view[data-view="${view}"][data-state="ready"]`, { timeout: 30_000 });
}

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const kpiValue = async (id: string) => (await page.textContent(`[data-kpi="${id}"] .kpi-value`))?.trim() ?? '';

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const data = await playedScenarioCopy('ui');
  api = await startCli(['serve', '--data', data, '--port', '0', '--log-level', 'info'], ['api listening']);
  base = api.urls['api listening']!;
  session = await launchBrowser();
  page = await session.page();
}, 300_000);

afterAll(async () => {
  await session?.close();
  await api?.stop();
});

describe('the built-in UI over a played scenario', () => {
  it('serves the page at / with the CSP that allows only its own scripts', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('app.js');
  });

  it('fabric overview shows the congested ports and the stalls', async () => {
    await open('fabric', 'fabric');
    expect(Number(await kpiValue('stalls'))).toBeGreaterThan(0);
    expect(await page.locator('#queue-heatmap canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-port-link="leaf-0/p4"]').count()).toBe(1);
    await shot('fabric-overview');
  });

  it('job determinism shows the job, its call durations and its stalls', async () => {
    await open('jobs', 'jobs');
    expect(await page.textContent('#job-picker')).toContain('train-a');
    expect(Number(await kpiValue('calls'))).toBeGreaterThan(100);
    expect(await page.locator('#stalls-table [data-stall-link]').count()).toBeGreaterThan(0);
    await shot('job-determinism');
  });

  it('clicking a stall opens its drill-down with the root cause', async () => {
    const first = page.locator('#stalls-table tr', { hasText: /Straggler GPU|Incast congestion/ }).locator('[data-stall-link]').first();
    const id = await first.getAttribute('data-stall-link');
    await first.click();
    await waitReady('stall');
    expect(await page.getAttribute('#root-cause', 'data-stall')).toBe(id);
    expect(await page.textContent('#root-cause')).toMatch(/Straggler GPU|Incast congestion/);
    expect(await page.locator('#evidence tbody tr').count()).toBeGreaterThan(0);
    await shot('stall-drilldown');
  });

  it('an incast stall names its port and shows the path', async () => {
    const res = await fetch(`${base}/api/v1/stalls?kind=incast_congestion&limit=1`);
    const { stalls } = (await res.json()) as { stalls: Array<{ id: string }> };
    await open(`stall/${encodeURIComponent(stalls[0]!.id)}`, 'stall');
    expect(await page.textContent('#root-cause')).toContain('leaf-0/p4');
    expect(await page.locator('#path-chart canvas').count()).toBeGreaterThan(0);
    await shot('stall-drilldown-incast');
  });

  it('GPU health lists every GPU with the straggler slowest', async () => {
    await open('gpus', 'gpus');
    expect(await kpiValue('gpus')).toBe('16');
    expect(await page.locator('#gpu-table tbody tr').count()).toBe(16);
    await shot('gpu-health');
  });

  it('alerts view loads', async () => {
    await open('alerts', 'alerts');
    expect(await page.locator('[data-kpi="firing"]').count()).toBe(1);
    expect(await page.locator('#alerts-table table, #alerts-table .empty').count()).toBe(1);
    await shot('alerts');
  });

  it("a port link opens the port's series", async () => {
    await open('fabric', 'fabric');
    await page.locator('[data-port-link="leaf-0/p4"]').click();
    await waitReady('port');
    expect(page.url()).toContain('#/port/leaf-0/p4');
    expect(await page.locator('#port-queue-chart canvas').count()).toBeGreaterThan(0);
    await shot('port-series');
  });

  it('a time range from the inputs applies to the view', async () => {
    await open('jobs?from=1767225620000&to=1767225635000', 'jobs');
    expect(await page.inputValue('#range')).toBe('custom');
    expect(await page.inputValue('#range-from')).toBe('2026-01-01T00:00:20');
    // Only straggler stalls fall between 00:00:20 and 00:00:35.
    expect(await page.textContent('#stalls-table')).not.toContain('Incast');
  });

  it('logged no console error, page error or failed request', () => {
    expect(session.problems).toEqual([]);
  });
});
