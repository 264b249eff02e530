// The JSON API: one function per endpoint, errors as ApiError with the server's `detail`.
// The session is the HttpOnly `access_token` cookie, which fetch sends on same-origin calls.

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status; // 0: the request never got an answer
    this.detail = detail;
  }
}

let onUnauthorized = null;

/** Called with the error whenever a call other than `me()` gets a 401. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function detailOf(data, fallback) {
  const detail = data && data.detail;
  if (typeof detail === 'string') return detail;
  // FastAPI's 422: a list of {loc, msg}.
  if (Array.isArray(detail)) {
    return detail.map((item) => (item && item.msg) || 'invalid input').join('; ');
  }
  return fallback;
}

async function request(method, path, body, { quiet401 = false } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    throw new ApiError(0, `Network error: ${error.message}`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, detailOf(data, `${response.status} ${response.statusText}`));
    if (response.status === 401 && !quiet401 && onUnauthorized) onUnauthorized(error);
    throw error;
  }
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== false) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

// Session
export const me = () => request('GET', '/me', undefined, { quiet401: true });
export const devLogin = (userId) => request('POST', '/dev/login', { user_id: userId }, { quiet401: true });
export const devLogout = () => request('POST', '/dev/logout', undefined, { quiet401: true });

// Notifications
export const STREAM_URL = `${BASE}/notifications/stream`;
export const history = ({ before, unreadOnly, limit = 20 } = {}) =>
  request('GET', `/notifications/history${query({ limit, before, unread_only: unreadOnly })}`);
export const unreadCount = () => request('GET', '/notifications/unread-count');
export const markRead = (id) => request('POST', `/notifications/${enc(id)}/read`);
export const markUnread = (id) => request('POST', `/notifications/${enc(id)}/unread`);
export const archive = (id) => request('DELETE', `/notifications/${enc(id)}`);
export const readAll = (upToId) => request('POST', '/notifications/read-all', { up_to_id: upToId });
export const notificationTypes = () => request('GET', '/notifications/types');
export const preferences = () => request('GET', '/notifications/preferences');
export const setPreferences = (inApp) => request('PUT', '/notifications/preferences', { in_app: inApp });

// Content requests
export const createRequest = (question) => request('POST', '/content-requests', { question });
export const listRequests = ({ cursor, limit = 20 } = {}) =>
  request('GET', `/content-requests${query({ limit, cursor })}`);
export const getRequest = (id) => request('GET', `/content-requests/${enc(id)}`);
export const answerClarification = (id, answer) =>
  request('POST', `/content-requests/${enc(id)}/clarification`, { answer });
