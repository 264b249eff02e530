// What the user saw and opened, reported to the service for its delivery analytics.
//
// `SeenReporter` collects the ids of notifications that were on screen and sends them in one
// request (at most 100 ids each) once `delay` ms passed without a new id (ids already pending
// or reported do not restart the wait, so a list re-rendering often still reports), and at the
// latest `maxWait` ms after the first pending one. Only while the page is visible: ids noted
// while it is hidden are ignored (what a hidden tab "shows" was not seen), and a report due while
// it is hidden waits until it is shown again. When the page goes away (`pagehide`: a link such
// as Watch now navigates) what is pending is sent at once with `keepalive`, so the request
// outlives the page. Each id is reported once per page; a failed report is forgotten, so the
// next time the notification is on screen it is reported again. Reporting never throws.

const MAX_IDS = 100; // the service's bound per request
const REMEMBERED = 5000; // ids already reported, kept to skip repeats

const pageVisible = () => typeof document === 'undefined' || document.visibilityState !== 'hidden';

// The page's window (absent in Node): where `pagehide` is heard.
const pageWindow = () => (typeof globalThis.addEventListener === 'function' ? globalThis : null);

export class SeenReporter {
  #send;
  #delay;
  #maxWait;
  #pending = new Set();
  #reported = new Set();
  #timer = null;
  #firstPendingAt = 0;
  #onVisible = null;
  #onPageHide = null;

  /**
   * `send(ids, {keepalive})`: the request (a promise); `delay`: ms without a new id before it
   * goes; `maxWait`: ms after the first pending id at the latest.
   */
  constructor(send, { delay = 500, maxWait = 2000 } = {}) {
    this.#send = send;
    this.#delay = delay;
    this.#maxWait = Math.max(delay, maxWait);
    const win = pageWindow();
    if (win) {
      this.#onPageHide = () => this.flush({ keepalive: true });
      win.addEventListener('pagehide', this.#onPageHide);
    }
  }

  /** Note ids that are on screen now (only when the page is visible). */
  add(ids) {
    if (!pageVisible()) return;
    const before = this.#pending.size;
    for (const id of ids) {
      if (Number.isSafeInteger(id) && id > 0 && !this.#reported.has(id)) this.#pending.add(id);
    }
    if (this.#pending.size === before) return; // nothing new: the wait goes on as it was
    const now = Date.now();
    if (before === 0) this.#firstPendingAt = now;
    const left = Math.max(0, this.#firstPendingAt + this.#maxWait - now);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), Math.min(this.#delay, left));
  }

  /**
   * Send what is pending now (if the page is visible; else once it is). `keepalive`: the page
   * is going away: send it whatever the visibility, as a request that outlives the page.
   */
  flush({ keepalive = false } = {}) {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.size === 0) return;
    if (!keepalive && !pageVisible()) {
      this.#waitUntilVisible();
      return;
    }
    const ids = [...this.#pending];
    this.#pending.clear();
    for (let start = 0; start < ids.length; start += MAX_IDS) {
      const chunk = ids.slice(start, start + MAX_IDS);
      for (const id of chunk) this.#reported.add(id);
      Promise.resolve()
        .then(() => this.#send(chunk, { keepalive }))
        .catch(() => {
          for (const id of chunk) this.#reported.delete(id);
        });
    }
    if (this.#reported.size > REMEMBERED) {
      this.#reported = new Set([...this.#reported].slice(-REMEMBERED / 2));
    }
  }

  #waitUntilVisible() {
    if (this.#onVisible || typeof document === 'undefined') return;
    this.#onVisible = () => {
      if (!pageVisible()) return;
      document.removeEventListener('visibilitychange', this.#onVisible);
      this.#onVisible = null;
      this.flush();
    };
    document.addEventListener('visibilitychange', this.#onVisible);
  }

  /** Stop: nothing pending is sent. */
  stop() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending.clear();
    if (this.#onVisible) document.removeEventListener('visibilitychange', this.#onVisible);
    this.#onVisible = null;
    if (this.#onPageHide) pageWindow()?.removeEventListener('pagehide', this.#onPageHide);
    this.#onPageHide = null;
  }
}
