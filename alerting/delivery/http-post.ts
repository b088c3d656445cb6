/** POSTs JSON; 4xx (bar timeouts and rate limits) is permanent, anything else is worth retrying. */
import { PermanentDeliveryError } from './outbox.js';

const TIMEOUT_MS = 10_000;

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'fabricscope-alerting', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const message = `${url} answered ${res.status}: ${text.slice(0, 300)}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentDeliveryError(message);
  throw new Error(message);
}
