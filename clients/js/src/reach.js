// What the user saw and opened, reported to the service for its delivery analytics.
//
// `SeenReporter` collects the ids of notifications that were on screen and sends them in one
// request (at most 100 ids each) once `delay` ms passed without a new one, and only while the
// page is visible: ids noted while it is hidden wait until it is shown again (what a hidden tab
// "shows" was not seen). Each id is reported once per page; a failed report is forgotten, so the
// next time the notification is on screen it is reported again. Reporting never throws.

const MAX_IDS = 100; // the service's bound per request
const REMEMBERED = 5000; // ids already reported, kept to skip repeats

const pageVisible = () => typeof document === 'undefined' || document.visibilityState !== 'hidden';

export class SeenReporter {
  #send;
  #delay;
  #pending = new Set();
  #reported = new Set();
  #timer = null;
  #onVisible = null;

  /** `send(ids)`: the request (a promise); `delay`: ms of quiet before it goes. */
  constructor(send, { delay = 500 } = {}) {
    this.#send = send;
    this.#delay = delay;
  }

  /** Note ids that are on screen now (only when the page is visible). */
  add(ids) {
    if (!pageVisible()) return;
    for (const id of ids) {
      if (Number.isSafeInteger(id) && id > 0 && !this.#reported.has(id)) this.#pending.add(id);
    }
    if (this.#pending.size === 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), this.#delay);
  }

  /** Send what is pending now (if the page is visible; else once it is). */
  flush() {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.size === 0) return;
    if (!pageVisible()) {
      this.#waitUntilVisible();
      return;
    }
    const ids = [...this.#pending];
    this.#pending.clear();
    for (let start = 0; start < ids.length; start += MAX_IDS) {
      const chunk = ids.slice(start, start + MAX_IDS);
      for (const id of chunk) this.#reported.add(id);
      Promise.resolve()
        .then(() => this.#send(chunk))
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
  }
}
