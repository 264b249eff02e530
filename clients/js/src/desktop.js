// Desktop notifications: a system notification (the Notification API) for a live notification
// that arrives while nobody is looking at the app, shown once per browser.
//
// - Opt-in: nothing is shown until `enable()`, called from a user gesture (a click), got the
//   browser's permission. The choice is kept per service and user (the `user` option) in
//   localStorage, so every tab of the origin, whichever leads, knows it, and another user who
//   signs in on this browser is not opted in by it.
// - Once: only the tab holding the shared stream (the client's leader) shows it, and only for a
//   notification its stream brought (never history). Each carries the tag `vividly-<id>`, so
//   even tabs that do not share a stream (no Web Locks) replace rather than repeat it.
// - Only when no tab is visible: the leader asks the other tabs of the same service over a
//   BroadcastChannel and shows it if none answers within ASK_MS (a visible tab shows its own
//   in-page toast instead).
// - A click focuses the tab that showed it, closes it and calls `onClick(notification)`; a
//   notification read or archived anywhere closes its system notification; `stop()` (sign-out)
//   closes every one this tab showed, and none appears after it.

import { changedIds } from './list.js';
import { describe, notificationTag } from './types.js';

const ASK_MS = 150;
const PROTOCOL = 1;

const supported = () => typeof Notification === 'function';
const visible = () => typeof document !== 'undefined' && document.visibilityState === 'visible';

function storage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled (some privacy modes throw on access)
  }
}

// Without the server's labels: the type's name in words as the title (a page passes its own
// `describe` with the labels, as web/js/main.js does).
function plainText(notification) {
  const text = describe(notification);
  return { title: text.heading, body: text.body };
}

export class DesktopNotifier {
  #client;
  #describe;
  #onClick;
  #key;
  #channelName;
  #channel = null;
  #shown = new Map(); // id -> Notification, kept so its click still reaches us
  #asks = new Map(); // ask id -> resolve(true) when a visible tab answers
  #handlers;
  #started = false;

  /**
   * `describe(notification)` → `{title, body?, icon?}` or null (show nothing); default: the
   * type registry's heading and text (types.js `describe`, without labels). `onClick(notification)`: after the tab is focused.
   * `user`: who is signed in; the opt-in is kept for this user only.
   */
  constructor(client, { describe = plainText, onClick = () => {}, user = null } = {}) {
    this.#client = client;
    this.#describe = describe;
    this.#onClick = onClick;
    this.#channelName = `vividly-desktop ${client.baseUrl}`;
    this.#key = user === null || user === undefined ? this.#channelName : `${this.#channelName} ${user}`;
    this.#handlers = {
      notification: (event) => this.#arrived(event.detail),
      read_state: (event) => this.#readElsewhere(event.detail),
    };
  }

  /** `granted`, `denied`, `default` (not asked yet) or `unsupported`. */
  get permission() {
    return supported() ? Notification.permission : 'unsupported';
  }

  /** Opted in on this browser and allowed by it. */
  get enabled() {
    return this.permission === 'granted' && storage()?.getItem(this.#key) === 'on';
  }

  /** Opt in; asks the browser's permission (call it from a click). Resolves to `enabled`. */
  async enable() {
    if (!supported()) return false;
    let permission = Notification.permission;
    if (permission === 'default') permission = await Notification.requestPermission();
    if (permission === 'granted') storage()?.setItem(this.#key, 'on');
    return this.enabled;
  }

  disable() {
    storage()?.removeItem(this.#key);
  }

  /** Listen to the client (every tab: a tab that never leads still answers "visible?"). */
  start() {
    if (this.#started) return;
    this.#started = true;
    if (typeof BroadcastChannel === 'function') {
      this.#channel = new BroadcastChannel(this.#channelName);
      this.#channel.onmessage = (event) => this.#fromChannel(event.data);
    }
    for (const [type, handler] of Object.entries(this.#handlers)) this.#client.addEventListener(type, handler);
  }

  stop() {
    if (!this.#started) return;
    this.#started = false;
    for (const [type, handler] of Object.entries(this.#handlers)) this.#client.removeEventListener(type, handler);
    this.#channel?.close();
    this.#channel = null;
    for (const resolve of this.#asks.values()) resolve(false);
    this.#asks.clear();
    for (const shown of [...this.#shown.values()]) shown.close();
    this.#shown.clear();
  }

  async #arrived(notification) {
    if (!notification || !this.#client.isLeader || !this.enabled) return;
    if (notification.read_at || notification.dismissed_at) return;
    if (await this.#anyTabVisible()) return;
    const text = this.#describe(notification);
    // Stopped (signed out) while asking: show nothing of the session that ended.
    if (!text || !this.enabled || !this.#started) return;
    const { id } = notification;
    const shown = new Notification(text.title, {
      body: text.body || '',
      icon: text.icon || undefined,
      tag: notificationTag(id),
    });
    this.#shown.set(id, shown);
    shown.addEventListener('click', () => {
      globalThis.focus?.();
      shown.close();
      this.#onClick(notification);
    });
    shown.addEventListener('close', () => {
      if (this.#shown.get(id) === shown) this.#shown.delete(id);
    });
  }

  #readElsewhere(event) {
    if (!event || (event.state !== 'read' && event.state !== 'dismissed')) return;
    for (const id of changedIds(event, this.#shown.keys()).ids) this.#shown.get(id)?.close();
  }

  /** This tab, or another of the service's tabs that answers in time, is visible. */
  #anyTabVisible() {
    if (visible()) return Promise.resolve(true);
    if (this.#channel === null) return Promise.resolve(false);
    const ask = `${Date.now()}-${Math.random()}`;
    return new Promise((resolve) => {
      const done = (answer) => {
        clearTimeout(timer);
        this.#asks.delete(ask);
        resolve(answer);
      };
      const timer = setTimeout(() => done(false), ASK_MS);
      this.#asks.set(ask, done);
      this.#channel.postMessage({ v: PROTOCOL, kind: 'visible?', ask });
    });
  }

  #fromChannel(message) {
    if (!message || message.v !== PROTOCOL) return;
    if (message.kind === 'visible?' && visible()) {
      this.#channel?.postMessage({ v: PROTOCOL, kind: 'visible', ask: message.ask });
    } else if (message.kind === 'visible') {
      this.#asks.get(message.ask)?.(true);
    }
  }
}
