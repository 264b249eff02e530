// The notification stream: one EventSource, its cursor, and every reconnect.
//
// Reconnects are ours, not the browser's. EventSource gives up for good on any answer that is
// not a 200 stream (401, 429, a proxy's 502) and keeps its URL, so a cursor put in the query
// would be replayed from again on each of its own reconnects. So on any error the source is
// closed and a new one opened after a short backoff with full jitter (at most `MAX_DELAY_MS`:
// a restarted server is used again within seconds; the server spreads a storm itself, ending
// its streams over time, and an `unavailable` answer's `retry:` is waited as asked), with the
// newest id seen as `?last_event_id=` (the server replays what was missed, then goes live).
// Coming back online, or `retryNow()` (the page's "Retry now", a tab shown again), tries at once.
//
// When the browser gave up (the source is CLOSED), a plain fetch of the same URL says why, since
// EventSource never shows the status: 401 is a session to renew or an end (`auth_expired`), 429
// means the user's other devices hold every stream slot (`too_many_places`, retried slowly).
//
// `event: displaced`: the user opened the stream on more devices than the server keeps, and this
// one is the oldest. It is not reopened by itself (that would displace the next device, and so
// on forever): the state is `paused` until `retryNow()`, which the person asks for ("Resume") or
// which showing the page again does. The newest device always wins; each displacement needs a
// person's action, so no loop forms.

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 3000;
const MIN_DELAY_MS = 100;
// The longest `retry:` of an `unavailable` answer honoured (the server's is SSE_RETRY_MS).
const MAX_RETRY_MS = 60_000;
// Back off from the start again only once a stream has stayed up this long: one that connects
// and fails at once (a proxy that cuts it, a server that restarts in a loop) must not turn into
// a tight reconnect loop.
const STABLE_MS = 30_000;
// Refused with 429 twice in a row: wait this long (plus up to as much again) between tries.
// The first 429 is retried soon: it is often our own previous stream, which the server has not
// yet seen close (a tab that took over, a quick reconnect).
const CROWDED_DELAY_MS = 30_000;
const PROBE_TIMEOUT_MS = 10_000;
// At most one automatic session renewal (getToken, POST /session) per this period.
const RENEW_PERIOD_MS = 30_000;

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

function idOf(event) {
  const id = Number.parseInt(event.lastEventId, 10);
  return Number.isSafeInteger(id) && id >= 0 ? id : null;
}

export class Stream {
  /**
   * hooks: event(name, detail) for `notification`, `read_state`, `progress`, `reset`,
   * `connected` ({resumed}) and `auth_expired`; status(state); renewSession() →
   * Promise<boolean>, optional: get a new session cookie (true when it worked).
   */
  constructor(url, { withCredentials, hooks }) {
    this.url = url;
    this.withCredentials = withCredentials;
    this.hooks = hooks;
    this.cursor = null;
    this.state = 'idle';
    this.source = null;
    this.timer = null;
    this.stableTimer = null;
    this.attempts = 0;
    this.refusals = 0; // 429s in a row
    this.lastRenew = -Infinity;
    this.generation = 0; // bumped by start/stop: an older attempt's callbacks do nothing
    this.stopped = true;
    this.onOnline = () => {
      // Back online: try now rather than at the end of the backoff.
      if (this.timer !== null && this.state !== 'too_many_places') this.#openSoon(0);
    };
  }

  /**
   * Try now: open a paused stream again, or cut a wait for the next attempt short. Does nothing
   * while the stream is up, or an attempt is on its way.
   */
  retryNow() {
    if (this.state === 'paused') {
      this.start(this.cursor);
    } else if (!this.stopped && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.#open();
    }
  }

  /** Open the stream from `cursor` (null: live only), or from the cursor it already has. */
  start(cursor = this.cursor) {
    this.#close();
    this.cursor = cursor;
    this.stopped = false;
    this.attempts = 0;
    this.refusals = 0;
    globalThis.addEventListener?.('online', this.onOnline);
    this.#setStatus(this.cursor === null ? 'connecting' : 'reconnecting');
    this.#open();
  }

  stop(state = 'stopped') {
    this.stopped = true;
    this.#close();
    globalThis.removeEventListener?.('online', this.onOnline);
    this.#setStatus(state);
  }

  #close() {
    this.generation += 1;
    clearTimeout(this.timer);
    clearTimeout(this.stableTimer);
    this.timer = null;
    if (this.source) this.source.close();
    this.source = null;
  }

  #setStatus(state) {
    if (state === this.state) return;
    this.state = state;
    this.hooks.status(state);
  }

  #open() {
    const generation = this.generation;
    const resumed = this.cursor !== null;
    const url = resumed ? `${this.url}?last_event_id=${this.cursor}` : this.url;
    const source = new EventSource(url, { withCredentials: this.withCredentials });
    this.source = source;
    let unavailable = false;
    const live = () => generation === this.generation && source === this.source;

    // Control messages are named events; only notifications arrive unnamed (`onmessage`), so a
    // notification type can never be taken for one, whatever its name.
    source.addEventListener('connected', (event) => {
      if (!live()) return;
      const id = idOf(event); // a live-only stream starts at the user's newest id
      if (id !== null) this.cursor = id;
      this.refusals = 0;
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        if (live()) this.attempts = 0;
      }, STABLE_MS);
      this.#setStatus('connected');
      this.hooks.event('connected', { resumed });
    });
    source.onmessage = (event) => {
      if (!live()) return;
      const data = parse(event);
      if (!data || !Number.isSafeInteger(data.id)) return;
      // Ids of a user are delivered in increasing order: one at or below the cursor was seen.
      if (this.cursor !== null && data.id <= this.cursor) return;
      this.cursor = data.id;
      this.hooks.event('notification', data);
    };
    source.addEventListener('read_state', (event) => {
      const data = live() && parse(event);
      if (data) this.hooks.event('read_state', data);
    });
    source.addEventListener('progress', (event) => {
      const data = live() && parse(event);
      if (data) this.hooks.event('progress', data);
    });
    source.addEventListener('displaced', () => {
      if (!live()) return;
      this.stop('paused'); // until a person asks for it here again: see the top of this file
    });
    source.addEventListener('reset', (event) => {
      if (!live()) return;
      const data = parse(event);
      const id = idOf(event) ?? (data && Number.isSafeInteger(data.latest_id) ? data.latest_id : null);
      if (id !== null) this.cursor = id; // the stream goes on from there
      this.hooks.event('reset', data);
    });
    source.addEventListener('auth_expired', () => {
      if (!live()) return;
      this.#close();
      this.#authFailed();
    });
    source.addEventListener('unavailable', (event) => {
      if (!live()) return;
      const data = parse(event);
      // The server's `retry:` (EventSource keeps it to itself; the data says it too).
      unavailable = data && Number.isSafeInteger(data.retry_ms) ? Math.min(data.retry_ms, MAX_RETRY_MS) : true;
      this.#setStatus('unavailable');
    });
    source.onerror = () => {
      if (!live()) return;
      const refused = source.readyState === EventSource.CLOSED;
      source.close();
      this.source = null;
      clearTimeout(this.stableTimer);
      if (refused) {
        this.#diagnose(generation);
      } else {
        if (!unavailable) this.#setStatus('reconnecting');
        this.#openSoon(typeof unavailable === 'number' ? unavailable : this.#backoff());
      }
    };
  }

  /** Why the browser gave up: the status of the same request, asked with fetch. */
  async #diagnose(generation) {
    const status = await this.#probe();
    if (generation !== this.generation || this.stopped) return;
    if (status === 401) {
      this.#authFailed();
    } else if (status === 429) {
      this.refusals += 1;
      if (this.refusals === 1) {
        this.#setStatus('reconnecting');
        this.#openSoon(BASE_DELAY_MS + Math.random() * BASE_DELAY_MS);
      } else {
        this.#setStatus('too_many_places');
        this.#openSoon(CROWDED_DELAY_MS + Math.random() * CROWDED_DELAY_MS);
      }
    } else {
      this.#setStatus('reconnecting');
      this.#openSoon(this.#backoff());
    }
  }

  async #probe() {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
    try {
      const response = await fetch(this.url, {
        credentials: this.withCredentials ? 'include' : 'same-origin',
        headers: { Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: controller.signal,
      });
      return response.status;
    } catch {
      return 0; // no answer: a network problem, retried with the usual backoff
    } finally {
      clearTimeout(timeout);
      controller.abort(); // a 200 is a stream of its own: drop it
    }
  }

  /** The session ended: renew it once if we can, else stop with `auth_expired`. */
  async #authFailed() {
    const generation = this.generation;
    const now = Date.now();
    if (this.hooks.renewSession && now - this.lastRenew > RENEW_PERIOD_MS) {
      this.lastRenew = now;
      const renewed = await this.hooks.renewSession();
      if (generation !== this.generation || this.stopped) return;
      if (renewed) {
        this.#openSoon(0);
        return;
      }
    }
    this.stop('auth_expired');
    this.hooks.event('auth_expired', null);
  }

  #backoff() {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 10);
    // Full jitter, so the clients of a restarted server do not all come back at the same instant.
    return MIN_DELAY_MS + Math.random() * (ceiling - MIN_DELAY_MS);
  }

  #openSoon(delay) {
    clearTimeout(this.timer);
    const generation = this.generation;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (generation === this.generation && !this.stopped) this.#open();
    }, delay);
  }
}
