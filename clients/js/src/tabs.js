// One stream per browser: the tabs of one service elect a leader with a Web Lock and share what
// its stream brings over a BroadcastChannel.
//
// The lock is requested for the tab's whole life and never given back while it streams; the
// browser releases it when the tab closes (or crashes), and the longest-waiting tab gets it at
// once. That is the whole election: no heartbeats, no timeouts, never two leaders.

/** Whether this browser can share a stream between tabs (else each tab has its own). */
export function canShare() {
  return (
    typeof navigator !== 'undefined' &&
    !!navigator.locks &&
    typeof navigator.locks.request === 'function' &&
    typeof BroadcastChannel === 'function'
  );
}

export class TabGroup {
  /** `name`: the lock's and the channel's; onLead(): this tab now holds the lock. */
  constructor(name, { onLead, onMessage }) {
    this.name = name;
    this.onLead = onLead;
    this.onMessage = onMessage;
    this.channel = null;
    this.abort = null;
    this.release = null;
  }

  join() {
    this.channel = new BroadcastChannel(this.name);
    this.channel.onmessage = (event) => this.onMessage(event.data);
    const abort = new AbortController();
    this.abort = abort;
    navigator.locks
      .request(this.name, { signal: abort.signal }, () => {
        if (abort.signal.aborted) return undefined; // left while the grant was on its way
        return new Promise((resolve) => {
          this.release = resolve;
          this.onLead();
        });
      })
      .catch(() => {}); // AbortError: left before it was our turn
  }

  post(message) {
    this.channel?.postMessage(message);
  }

  leave() {
    this.abort?.abort();
    this.release?.();
    this.channel?.close();
    this.channel = null;
    this.abort = null;
    this.release = null;
  }
}
