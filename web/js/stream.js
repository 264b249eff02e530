// The notification stream: one EventSource, events dispatched to handlers, reconnects owned here.
//
// Why reconnects are ours and not the browser's: EventSource gives up for good on any answer
// that is not a 200 stream (401, 429, a proxy's 502), and its URL is fixed, so a cursor put in
// the query would be replayed from again on every later reconnect. So on any error we close the
// source and open a new one after a jittered backoff, passing the last id we saw as
// `?last_event_id=` (the server replays what we missed, then goes live).

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const STABLE_MS = 30_000;

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

export class NotificationStream {
  /**
   * handlers: connected({resumed}), notification(n), readState(e), reset(e), authExpired(),
   * status(state) with state in connecting|connected|reconnecting|unavailable|stopped,
   * failedBeforeConnect() (an attempt ended without `connected`: maybe the session is gone).
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.source = null;
    this.lastId = null;
    this.attempts = 0;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.#open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.source) this.source.close();
    this.source = null;
    this.#status('stopped');
  }

  #status(state) {
    this.state = state;
    this.handlers.status?.(state);
  }

  #track(event) {
    // Every event with an `id:` (notifications, `connected` of a live-only stream, `reset`)
    // moves the cursor; the browser keeps the last one in `lastEventId`.
    const id = Number.parseInt(event.lastEventId, 10);
    if (Number.isSafeInteger(id) && id >= 0) this.lastId = id;
  }

  #open() {
    const resumed = this.lastId !== null;
    const url = resumed ? `${this.url}?last_event_id=${this.lastId}` : this.url;
    const source = new EventSource(url);
    this.source = source;
    let connected = false;
    let unavailable = false;
    if (this.state !== 'reconnecting' && this.state !== 'unavailable') this.#status('connecting');

    // Control messages are named events; only notifications arrive unnamed (`onmessage`), so
    // a notification type can never be mistaken for one, whatever its name.
    source.addEventListener('connected', (event) => {
      this.#track(event);
      connected = true;
      // Back off again from the start only once the stream has stayed up a while: a stream
      // that connects and then fails at once must not turn into a tight reconnect loop.
      clearTimeout(this.stableTimer);
      this.stableTimer = setTimeout(() => {
        if (source === this.source) this.attempts = 0;
      }, STABLE_MS);
      this.#status('connected');
      this.handlers.connected?.({ resumed });
    });
    source.onmessage = (event) => {
      this.#track(event);
      const data = parse(event);
      if (data && typeof data.id === 'number') this.handlers.notification?.(data);
    };
    source.addEventListener('read_state', (event) => {
      const data = parse(event);
      if (data) this.handlers.readState?.(data);
    });
    source.addEventListener('reset', (event) => {
      this.#track(event);
      this.handlers.reset?.(parse(event));
    });
    source.addEventListener('auth_expired', () => {
      this.stop();
      this.handlers.authExpired?.();
    });
    source.addEventListener('unavailable', () => {
      unavailable = true;
      this.#status('unavailable');
    });
    source.onerror = () => {
      if (source !== this.source) return;
      source.close();
      this.source = null;
      if (this.stopped) return;
      if (!unavailable) this.#status('reconnecting');
      if (!connected && !unavailable) this.handlers.failedBeforeConnect?.();
      this.#schedule();
    };
  }

  #schedule() {
    clearTimeout(this.timer);
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 10);
    // Jitter, so the clients of a restarted server do not all come back at the same instant.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.#open();
    }, delay);
  }
}
