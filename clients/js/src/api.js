// The REST calls: one method per endpoint, errors as ApiError with the server's `detail`.
//
// Same origin: the HttpOnly session cookie goes along by itself. Another origin: requests are
// credentialed (`credentials: 'include'`, the service lists this page in CORS_ORIGINS), and a
// Bearer token from `getToken` is sent whenever there is one.

/** The message of an ApiError whose request got no answer (status 0): offline, server down. */
const UNREACHABLE = 'Could not reach the server.';

export class ApiError extends Error {
  /** `status`: the HTTP status, 0 when no answer came; `detail`: the server's `detail`. */
  constructor(status, detail, options) {
    super(messageOf(status, detail), options);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
  }
}

function messageOf(status, detail) {
  if (typeof detail === 'string') return detail;
  // FastAPI's 422: a list of {loc, msg}.
  if (Array.isArray(detail)) return detail.map((item) => (item && item.msg) || 'invalid input').join('; ');
  return `HTTP ${status}`;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== false) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

function notificationPath(id, action = '') {
  if (!Number.isSafeInteger(id) || id < 1) throw new ApiError(0, `not a notification id: ${id}`);
  return `/notifications/${id}${action}`;
}

// A Date as RFC 3339 in UTC; a string as given (the server checks it: an offset, in the future,
// at most 30 days ahead, else a 422 naming `body.until`).
function untilText(until) {
  if (until instanceof Date) {
    if (Number.isNaN(until.getTime())) throw new ApiError(0, 'not a valid date: until');
    return until.toISOString();
  }
  if (typeof until === 'string') return until;
  throw new ApiError(0, `until must be a Date or an RFC 3339 string: ${until}`);
}

export class Api {
  /** `base`: the service's origin (and path prefix, if any), without a trailing slash. */
  constructor(base, { getToken, crossOrigin }) {
    this.base = `${base}/api/v1`;
    this.getToken = getToken;
    this.credentials = crossOrigin ? 'include' : 'same-origin';
  }

  get streamUrl() {
    return `${this.base}/notifications/stream`;
  }

  /** `keepalive`: the request may outlive the page (sent as it goes away; small bodies only). */
  async request(method, path, body, { keepalive = false } = {}) {
    const headers = { Accept: 'application/json' };
    const token = this.getToken ? await this.getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, credentials: this.credentials, cache: 'no-store' };
    if (keepalive) init.keepalive = true;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    let text;
    try {
      response = await fetch(this.base + path, init);
      text = await response.text();
    } catch (error) {
      // The browser's words ("Failed to fetch", "NetworkError when attempting to fetch
      // resource") say nothing to a person, and differ by browser.
      throw new ApiError(0, UNREACHABLE, { cause: error });
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const detail = data && data.detail !== undefined ? data.detail : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, detail);
    }
    return data;
  }

  createSession() {
    return this.request('POST', '/session');
  }

  history({ before, limit, unreadOnly, type, includeDismissed, archived } = {}) {
    const params = { limit, before, unread_only: unreadOnly, type, include_dismissed: includeDismissed, archived };
    return this.request('GET', `/notifications/history${query(params)}`);
  }

  unreadCount() {
    return this.request('GET', '/notifications/unread-count');
  }

  async markRead(id) {
    return this.request('POST', notificationPath(id, '/read'));
  }

  async markUnread(id) {
    return this.request('POST', notificationPath(id, '/unread'));
  }

  async archive(id) {
    return this.request('DELETE', notificationPath(id));
  }

  async restore(id) {
    return this.request('POST', notificationPath(id, '/restore'));
  }

  async snooze(id, until) {
    return this.request('POST', notificationPath(id, '/snooze'), { until: untilText(until) });
  }

  markSeen(ids, { keepalive = false } = {}) {
    return this.request('POST', '/notifications/seen', { ids }, { keepalive });
  }

  async markOpened(id) {
    return this.request('POST', notificationPath(id, '/opened'));
  }

  // The watermark: only what the user saw changes; a notification that arrives meanwhile stays.
  markAllRead(upToId) {
    return this.request('POST', '/notifications/read-all', upToId == null ? {} : { up_to_id: upToId });
  }

  clearAll(upToId) {
    return this.request('POST', '/notifications/dismiss-all', upToId == null ? {} : { up_to_id: upToId });
  }

  preferences() {
    return this.request('GET', '/notifications/preferences');
  }

  setPreferences(inApp) {
    return this.request('PUT', '/notifications/preferences', { in_app: inApp });
  }

  async types() {
    const data = await this.request('GET', '/notifications/types');
    return Array.isArray(data) ? data : data.types; // the server answers {"types": [...]}
  }
}
