/**
 * The built-in UI on a server that requires a token (`fabricscope serve --api-tokens`): the
 * page asks for the token before reading anything, a wrong one is refused and asked for again,
 * the right one loads the data (sent as `Authorization: Bearer`), and requests without it are
 * refused with 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type Service } from '../harness/cli-process.js';
import { launchBrowser, type BrowserSession, type Page } from './browser.js';
import { playedScenarioCopy } from './played-scenario.js';

const TOKEN = 'ui-auth-test-token';
let api: Service;
let session: BrowserSession;
let page: Page;
let base: string;
/** The Authorization header of every API request the page made. */
const apiRequests: Array<{ url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  const data = await playedScenarioCopy('ui-auth');
  api = await startCli(['serve', '--data', data, '--port', '0', '--api-tokens', TOKEN, '--log-level', 'info'], ['api listening']);
  base = api.urls['api listening']!;
  session = await launchBrowser();
  page = await session.page();
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push({ url: r.url(), authorization: r.headers()['authorization'] });
  });
}, 300_000);

afterAll(async () => {
  await session?.close();
  await api?.stop();
});

async function enterToken(token: string): Promise<void> {
  await page.fill('#token-input', token);
  // Submitting reloads the page: wait for the new document, not the old one's gate.
  await Promise.all([page.waitForEvent('load'), page.click('#token-submit')]);
}

describe('the UI with an API token', () => {
  it('without the token every data route is 401, while the page itself and the probes stay open', async () => {
    for (const path of ['/api/v1/stalls', '/api/v1/root-causes', '/api/v1/gpus', '/openapi.json']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect((await fetch(`${base}/api/v1/stalls`, { headers: { authorization: 'Bearer not-it' } })).status).toBe(401);
    expect((await fetch(`${base}/api/v1/stalls?access_token=${TOKEN}`)).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect(await (await fetch(`${base}/ui/config.json`)).json()).toMatchObject({ auth: true, live: false });
    expect((await fetch(`${base}/api/v1/stalls`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('asks for the token before reading any data', async () => {
    await page.goto(`${base}/#/fabric?last=60`);
    await page.waitForSelector('#token-gate #token-input');
    expect(await page.textContent('#token-reason')).toContain('requires an API token');
    expect(apiRequests).toEqual([]);
    expect(session.problems).toEqual([]);
  });

  it('refuses a wrong token and asks again', async () => {
    await enterToken('not-the-token');
    await page.waitForFunction(() => document.querySelector('#token-reason')?.textContent?.includes('did not accept'), undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('fabricscope.api-token'))).toBeNull();
    expect(apiRequests.length).toBeGreaterThan(0);
    // The first request carried it; once refused it is forgotten, so later ones may go without.
    expect(apiRequests[0]?.authorization).toBe('Bearer not-the-token');
    expect(apiRequests.filter((r) => r.authorization === `Bearer ${TOKEN}`)).toEqual([]);
    // The view's other requests were already in flight when the first 401 raised the gate: let
    // them land (and be refused) here, not in the next test.
    await page.waitForLoadState('networkidle');
  });

  it('loads the data with the right token, sending it on every request', async () => {
    apiRequests.length = 0;
    session.problems.length = 0;
    await enterToken(TOKEN);
    await page.waitForSelector('#view[data-view="fabric"][data-state="ready"]', { timeout: 60_000 });
    expect(Number((await page.textContent('[data-kpi="stalls"] .kpi-value'))?.trim())).toBeGreaterThan(0);
    expect(await page.locator('#token-gate').count()).toBe(0);
    expect(apiRequests.length).toBeGreaterThan(0);
    expect(apiRequests.filter((r) => r.authorization !== `Bearer ${TOKEN}`)).toEqual([]);
    expect(session.problems).toEqual([]);
  });
});
