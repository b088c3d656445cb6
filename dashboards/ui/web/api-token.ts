/**
 * The API token of a server that requires one (config `api_tokens`). Kept in sessionStorage:
 * it lasts while the tab is open and goes with it, and no other tab or site sees it. Every
 * fetch sends it as `Authorization: Bearer`; the live stream, an EventSource that cannot send
 * headers, passes it as `?access_token=`, which the server accepts on that one route only.
 */
import { h } from './dom.js';

const KEY = 'fabricscope.api-token';

export const storedToken = (): string | undefined => sessionStorage.getItem(KEY) ?? undefined;

export function authorizationHeader(): Record<string, string> {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The live stream's URL, with the token when there is one. */
export function streamUrl(path: string): string {
  const token = storedToken();
  return token ? `${path}?access_token=${encodeURIComponent(token)}` : path;
}

/**
 * Asks for a token over the page (once, however many requests were refused), then reloads
 * so every view and the stream start again with it. A refused token is forgotten first.
 */
export function askForToken(reason: string): void {
  sessionStorage.removeItem(KEY);
  if (document.getElementById('token-gate')) return;
  const input = h('input', { type: 'password', id: 'token-input', class: 'token-input', autocomplete: 'off', required: true, 'aria-label': 'API token' });
  const form = h(
    'form',
    { class: 'token-form', id: 'token-form' },
    h('h2', {}, 'API token'),
    h('p', { class: 'muted', id: 'token-reason' }, reason),
    input,
    h('button', { type: 'submit', id: 'token-submit', class: 'token-submit' }, 'Use token'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    sessionStorage.setItem(KEY, token);
    location.reload();
  });
  document.body.append(h('div', { class: 'token-gate', id: 'token-gate', role: 'dialog', 'aria-modal': 'true' }, form));
  input.focus();
}
