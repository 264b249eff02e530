// NotificationClient: the REST calls, and the stream shared by every tab of this browser.
//
// With Web Locks and BroadcastChannel, the tab holding the lock (the leader) runs the one stream
// and posts everything it brings to the other tabs (followers). Followers keep the leader's
// cursor from every message, so whichever of them gets the lock next resumes the stream where
// the leader left it and the server replays what was committed in between. Without those APIs
// (or with `shareAcrossTabs: false`) every client runs its own stream.
//
// Channel messages, all `{v: 1, kind, ...}`:
//   {kind: 'event', name, detail, cursor}  leader → followers: a stream event
//   {kind: 'status', status, cursor}       leader → followers: the stream's state
//   {kind: 'hello'}                        a tab that joins → leader: send your state
//   {kind: 'restart'}                      follower → leader: `start()` again (after sign-in),
//                                          or `retryNow()`
// A leader whose stream ended with `auth_expired` or was `paused` opens it again on `hello` and
// `restart`; one waiting to reconnect tries at once.
import { Api, ApiError } from './api.js';
import { SeenReporter } from './reach.js';
import { Stream } from './stream.js';
import { TabGroup, canShare } from './tabs.js';

const PROTOCOL = 1;
const EVENTS = new Set(['notification', 'read_state', 'progress', 'reset', 'connected', 'auth_expired']);
// Stopped until asked: opened again by `start()`, a new tab, `retryNow()`.
const ENDED = new Set(['auth_expired', 'paused']);
// Showing the page again tries at once in these (a person is looking).
const WAITING = new Set(['reconnecting', 'unavailable', 'too_many_places', 'paused']);

/** The service's URL without a trailing slash; default: this page's origin. */
function baseOf(baseUrl) {
  const here = globalThis.location ? globalThis.location.href : undefined;
  const url = new URL(baseUrl ?? globalThis.location.origin, here);
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

export class NotificationClient extends EventTarget {
  #base;
  #api;
  #stream;
  #group = null;
  #name;
  #share;
  #renews;
  #status = 'idle';
  #leader = false;
  #cursor = null;
  #started = false;
  #seen;
  #opened = new Set();
  #onVisible = () => {
    if (globalThis.document?.visibilityState === 'visible' && WAITING.has(this.#status)) this.retryNow();
  };

  constructor(options = {}) {
    super();
    this.#base = baseOf(options.baseUrl);
    const crossOrigin = new URL(this.#base).origin !== globalThis.location?.origin;
    const getToken = options.getToken ?? null;
    this.#api = new Api(this.#base, { getToken, crossOrigin });
    this.#renews = getToken !== null;
    this.#seen = new SeenReporter((ids, sending) => this.#api.markSeen(ids, sending), {
      delay: options.seenDelayMs ?? 500,
    });
    this.#share = options.shareAcrossTabs !== false && canShare();
    // Per service: two services used by one page, or one browser, never share a stream.
    this.#name = `vividly-notifications ${this.#base}`;
    this.#stream = new Stream(this.#api.streamUrl, {
      withCredentials: crossOrigin,
      hooks: {
        event: (name, detail) => this.#fromStream('event', name, detail),
        status: (status) => this.#fromStream('status', status),
        renewSession: this.#renews ? () => this.#renewSession() : null,
      },
    });
  }

  /** The service's URL, without a trailing slash. */
  get baseUrl() {
    return this.#base;
  }

  get status() {
    return this.#status;
  }

  get isLeader() {
    return this.#leader;
  }

  get lastEventId() {
    return this.#cursor;
  }

  start() {
    if (this.#started) {
      if (ENDED.has(this.#status)) this.#restart();
      return;
    }
    this.#started = true;
    globalThis.document?.addEventListener('visibilitychange', this.#onVisible);
    this.#setStatus('connecting');
    if (!this.#share) {
      this.#lead();
      return;
    }
    this.#group = new TabGroup(this.#name, {
      onLead: () => this.#lead(),
      onMessage: (message) => this.#fromChannel(message),
    });
    this.#group.join();
    this.#post({ kind: 'hello' });
  }

  stop() {
    if (!this.#started) return;
    // The followers' stream is gone until the next leader reports.
    if (this.#leader) this.#post({ kind: 'status', status: 'reconnecting', cursor: this.#cursor });
    this.#started = false;
    globalThis.document?.removeEventListener('visibilitychange', this.#onVisible);
    this.#seen.flush(); // what was on screen until now still counts
    this.#stream.stop();
    this.#group?.leave();
    this.#group = null;
    this.#setLeader(false);
    this.#setStatus('stopped');
  }

  /**
   * Try the stream now (a "Retry now" or "Resume" button): cut a reconnect's wait short, or open
   * a `paused` stream again, in whichever tab holds it. Nothing while connected.
   */
  retryNow() {
    if (!this.#started) return;
    if (this.#leader) this.#stream.retryNow();
    else this.#post({ kind: 'restart' });
  }

  // --- REST -------------------------------------------------------------------------------

  /** Exchange the Bearer token from `getToken` for the session cookie the stream needs. */
  async createSession() {
    await this.#api.createSession();
  }

  history(query) {
    return this.#api.history(query);
  }

  unreadCount() {
    return this.#api.unreadCount();
  }

  markRead(id) {
    return this.#api.markRead(id);
  }

  markUnread(id) {
    return this.#api.markUnread(id);
  }

  /**
   * Report notifications that are on the user's screen now (the list open, the page visible):
   * batched, sent after a short wait without a new id (2 s at the latest), only while the page
   * is visible, each id once; what is pending when the page goes away is sent with `keepalive`.
   * For the service's delivery analytics; never throws.
   */
  reportSeen(ids) {
    this.#seen.add(Array.isArray(ids) ? ids : [ids]);
  }

  /**
   * Report that the user acted on a notification (Watch now, an answer): once per id and page.
   * Resolves when reported; a failure is swallowed (analytics must not disturb the app).
   */
  async reportOpened(id) {
    if (!Number.isSafeInteger(id) || id < 1 || this.#opened.has(id)) return;
    this.#opened.add(id);
    try {
      await this.#api.markOpened(id);
    } catch {
      this.#opened.delete(id);
    }
  }

  archive(id) {
    return this.#api.archive(id);
  }

  /** Undo archive (and cancel a snooze): `POST /notifications/{id}/restore`. */
  restore(id) {
    return this.#api.restore(id);
  }

  /** Archive until `until` (a Date or an RFC 3339 string with an offset); then it comes back as new. */
  snooze(id, until) {
    return this.#api.snooze(id, until);
  }

  markAllRead(upToId) {
    return this.#api.markAllRead(upToId);
  }

  clearAll(upToId) {
    return this.#api.clearAll(upToId);
  }

  preferences() {
    return this.#api.preferences();
  }

  setPreferences(inApp) {
    return this.#api.setPreferences(inApp);
  }

  types() {
    return this.#api.types();
  }

  /**
   * Any other route of the service under `/api/v1` (e.g. `/content-requests`), with the same
   * credentials, token and `ApiError`s as the calls above.
   */
  request(method, path, body) {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      return Promise.reject(new ApiError(0, `not a path: ${path}`));
    }
    return this.#api.request(method, path, body);
  }

  // --- the stream, here or in the leader tab ---------------------------------------------

  async #lead() {
    if (!this.#started) return;
    this.#setLeader(true);
    // With a token and no stream seen yet, set the cookie first rather than after a 401.
    if (this.#renews && this.#cursor === null) {
      await this.#renewSession();
      if (!this.#started || !this.#leader) return;
    }
    this.#stream.start(this.#cursor);
  }

  #restart() {
    if (this.#leader) {
      this.#stream.start(this.#cursor);
    } else {
      this.#setStatus('connecting');
      this.#post({ kind: 'restart' });
    }
  }

  async #renewSession() {
    try {
      await this.#api.createSession();
      return true;
    } catch {
      return false;
    }
  }

  #fromStream(kind, nameOrStatus, detail) {
    if (!this.#started) return;
    this.#cursor = this.#stream.cursor;
    if (kind === 'status') {
      this.#setStatus(nameOrStatus);
      this.#post({ kind, status: nameOrStatus, cursor: this.#cursor });
    } else {
      this.#post({ kind, name: nameOrStatus, detail, cursor: this.#cursor });
      this.#dispatch(nameOrStatus, detail);
    }
  }

  #fromChannel(message) {
    if (!message || message.v !== PROTOCOL || !this.#started) return;
    if (this.#leader) {
      if (message.kind !== 'hello' && message.kind !== 'restart') return; // the previous leader's
      // A tab that asks again, or one that opens, may follow a new sign-in or a person's
      // "Resume": try once more.
      if (ENDED.has(this.#status)) this.#stream.start(this.#cursor);
      else {
        if (message.kind === 'restart') this.#stream.retryNow();
        this.#post({ kind: 'status', status: this.#status, cursor: this.#cursor });
      }
      return;
    }
    if (message.kind === 'event' && EVENTS.has(message.name)) {
      const id = message.detail && message.detail.id;
      // Seen already: a new leader replays from the cursor its channel brought, which can be
      // older than this tab's when the old leader's last messages were still on their way.
      const seen = message.name === 'notification' && this.#cursor !== null && !(id > this.#cursor);
      this.#follow(message.cursor, message.name === 'reset');
      if (!seen) this.#dispatch(message.name, message.detail);
    } else if (message.kind === 'status' && typeof message.status === 'string') {
      this.#follow(message.cursor, false);
      this.#setStatus(message.status);
    }
  }

  /**
   * Take the leader's cursor. Never a lower one (a new leader announces the cursor its channel
   * brought, maybe older than ours: going back would deliver the replay twice), except on
   * `reset`: the server did not know the cursor and the stream goes on from the reset's.
   */
  #follow(cursor, reset) {
    if (!Number.isSafeInteger(cursor)) return;
    if (reset || this.#cursor === null || cursor > this.#cursor) this.#cursor = cursor;
  }

  #post(message) {
    if (this.#group && (this.#leader || message.kind === 'hello' || message.kind === 'restart')) {
      this.#group.post({ v: PROTOCOL, ...message });
    }
  }

  #setLeader(leader) {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#dispatch('leader', leader);
  }

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.#dispatch('status', status);
  }

  #dispatch(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
