// useNotifications for React: the server's history, kept live by a NotificationClient.
// Plain ES module (no JSX, no build). React is a peer dependency.
//
// The list itself (history, live events, read state, actions shown at once) is the package's
// NotificationList, the same one <notification-center> draws; this module makes it a React
// external store. Every component that uses the same client shares one list, so a bell and a
// page of notifications never disagree and history is fetched once.
import { createContext, createElement, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import { NotificationClient } from './index.js';
import { NotificationList } from './list.js';
import { statusProblem } from './status.js';

// The customer's "Watch Now" navigates to /video/{content_id} of its own origin (a click the
// hook cannot see): a page at that path reports the listed notification of that video opened.
const VIDEO_PATH = /\/video\/([0-9a-fA-F-]{36})\/?$/;

function openedFromLocation(list, client) {
  const match = globalThis.location && VIDEO_PATH.exec(globalThis.location.pathname);
  if (!match) return;
  const contentId = match[1].toLowerCase();
  const opened = list.items.find((item) => String(item.payload?.content_id).toLowerCase() === contentId);
  if (opened) client.reportOpened(opened.id);
}

const isClient = (value) =>
  value instanceof EventTarget && typeof value.history === 'function' && typeof value.start === 'function';

/** One client's NotificationList as immutable snapshots for `useSyncExternalStore`. */
class ListStore {
  constructor(client, { owned }) {
    this.client = client;
    this.owned = owned; // created by this module: stopped once no component uses it
    this.list = new NotificationList(client, () => this.#emit());
    this.listeners = new Set();
    this.attached = false;
    this.detachTimer = null;
    this.streamProblem = null; // an Error while the status is a problem (status.js)
    this.openedChecked = false;
    this.snapshot = this.#snapshot();
    const idOf = (notification, action) => {
      const id = notification && notification.id;
      if (Number.isSafeInteger(id)) return id;
      // The contract's type has no id; the objects this hook lists do.
      console.error(`useNotifications: ${action} needs a notification from the hook's list (with its id)`);
      return null;
    };
    const one = (action, method) => (notification) => {
      const id = idOf(notification, action);
      if (id !== null) this.list[method](id);
    };
    this.actions = {
      markAsRead: one('markAsRead', 'markRead'),
      markAsUnread: one('markAsUnread', 'markUnread'),
      archive: one('archive', 'archive'),
      // Resolve once the server answered (a refusal lands in `error`); never reject.
      restore: (notification) => {
        const id = idOf(notification, 'restore');
        return id === null ? Promise.resolve() : this.list.restore(id);
      },
      snooze: (notification, until) => {
        const id = idOf(notification, 'snooze');
        return id === null ? Promise.resolve() : this.list.snooze(id, until);
      },
      markAllAsRead: () => {
        this.list.bulk('read');
      },
      clearAll: () => {
        this.list.bulk('archive');
      },
      loadMore: () => this.list.loadMore(),
      reportSeen: (notifications) => {
        const ids = (notifications ?? this.list.items).map((item) => item && item.id);
        client.reportSeen(ids.filter(Number.isSafeInteger));
      },
      reportOpened: (notification) => {
        const id = idOf(notification, 'reportOpened');
        if (id !== null) client.reportOpened(id);
      },
    };
  }

  subscribe = (listener) => {
    this.listeners.add(listener);
    clearTimeout(this.detachTimer);
    this.detachTimer = null;
    if (!this.attached) {
      this.attached = true;
      this.list.attach(); // starts the client (idempotent) and loads the first page
      this.#emit();
    }
    return () => {
      this.listeners.delete(listener);
      // Later, so that a component that unmounts and mounts again at once (StrictMode, a route
      // change) keeps the stream and the list instead of starting over.
      if (this.listeners.size === 0 && this.detachTimer === null) {
        this.detachTimer = setTimeout(() => {
          this.detachTimer = null;
          if (this.listeners.size > 0 || !this.attached) return;
          this.attached = false;
          this.list.detach();
          if (this.owned) this.client.stop();
          this.#emit();
        }, 0);
      }
    };
  };

  getSnapshot = () => this.snapshot;

  #snapshot() {
    const { list } = this;
    const status = this.client.status;
    const problem = statusProblem(status);
    if (!problem) this.streamProblem = null;
    else if (!this.streamProblem || this.streamProblem.status !== status) {
      this.streamProblem = Object.assign(new Error(problem), { status });
    }
    return {
      notifications: list.items,
      unreadCount: list.unreadCount,
      status,
      isConnected: status === 'connected',
      error: list.error || this.streamProblem,
      loaded: list.loaded,
      hasMore: list.hasMore,
    };
  }

  #emit() {
    if (!this.openedChecked && this.list.loaded) {
      this.openedChecked = true;
      openedFromLocation(this.list, this.client);
    }
    this.snapshot = this.#snapshot();
    for (const listener of [...this.listeners]) listener();
  }
}

const stores = new WeakMap(); // client -> ListStore
let pageClient = null;

function storeFor(client, owned) {
  let store = stores.get(client);
  if (!store) {
    store = new ListStore(client, { owned });
    stores.set(client, store);
  }
  return store;
}

const ClientContext = createContext(null);

/** Gives `useNotifications()` (without an argument) below it this client, e.g. one for another origin. */
export function NotificationsProvider({ client, children }) {
  return createElement(ClientContext.Provider, { value: client }, children);
}

/**
 * The notifications of `options` (a NotificationClient, or options for a client of this
 * component's own), else of the nearest NotificationsProvider's client, else of one shared
 * client for this page's origin. The hook starts the client; it stops only a client it created,
 * once no component uses it.
 */
export function useNotifications(options) {
  const provided = useContext(ClientContext);
  const own = useRef(null);
  let client;
  let owned = false;
  if (isClient(options)) {
    client = options;
  } else if (options) {
    // Options are read on the first render; a new object on every render is fine.
    if (own.current === null) own.current = new NotificationClient(options);
    client = own.current;
    owned = true;
  } else if (provided) {
    client = provided;
  } else {
    if (pageClient === null) pageClient = new NotificationClient();
    client = pageClient;
    owned = true;
  }
  const store = storeFor(client, owned);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(() => ({ ...state, ...store.actions, client }), [state, store, client]);
}
