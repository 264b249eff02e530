// The small HTTP layer of push.js and digest.js: one call to the API under `/api/v1`, with the
// session cookie (`credentials: 'include'`), a bearer token when `options.getToken` returns one,
// and JSON both ways. It answers `{response, json}` and leaves errors to the caller, whose
// error types differ; a network failure rejects as fetch does.
// Options: `apiBase` (default: this origin), `fetch`, `getToken`.

export const API = '/api/v1';

export async function send(options, method, path, body) {
  const fetcher = options.fetch || globalThis.fetch.bind(globalThis);
  const base = String(options.apiBase || '').replace(/\/+$/, '');
  const headers = { Accept: 'application/json' };
  const token = options.getToken ? await options.getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body) headers['Content-Type'] = 'application/json';
  const response = await fetcher(`${base}${API}${path}`, {
    method,
    credentials: 'include',
    cache: 'no-store',
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = response.status === 204 ? null : await response.json().catch(() => null);
  return { response, json };
}

/** The server's reason in a failed answer: its `detail` (a 422's problems joined), else the status. */
export function detailOf(json, status) {
  const detail = json && json.detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) return detail.map((item) => (item && item.msg) || 'invalid input').join('; ');
  return `HTTP ${status}`;
}
