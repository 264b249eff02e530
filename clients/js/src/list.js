// The notifications of one client as a list a view can draw: the server's history, kept current
// by the stream, with the actions that change the server's state (shown at once, reloaded from
// the server if it refused). Drawn by <notification-center> and made a React store by the hook
// (react.js), and used by the service's own page; knows nothing of the DOM or of React.

const PAGE_SIZE = 20;
const KEEP_LEFT = 50; // archived or snoozed items kept for an instant Undo

const isUnread = (n) => !n.read_at && !n.dismissed_at;

/**
 * The ids of `known` a `read_state` event changed. The event names at most 100 ids (the
 * oldest); a bigger change (`changed` > the ids named) covers every id up to `up_to_id`.
 */
export function changedIds(event, known) {
  const ids = Array.isArray(event.ids) ? event.ids : [];
  const bulk = Number.isSafeInteger(event.up_to_id) && (event.ids == null || (event.changed ?? 0) > ids.length);
  return { bulk, ids: bulk ? [...known].filter((id) => id <= event.up_to_id) : ids };
}

export class NotificationList {
  /** onChange(): called after every change of `items`, `unreadCount`, `status`, `error`... */
  constructor(client, onChange) {
    this.client = client;
    this.onChange = onChange;
    this.handlers = {
      notification: (event) => this.#addLive(event.detail),
      read_state: (event) => this.#applyReadState(event.detail),
      reset: () => {
        this.#drop();
        this.refresh();
      },
      // Take the server's list again on every connect: a stream that could not resume missed
      // notifications, and even one that resumed missed read-state changes (`read_state` is
      // not replayed).
      connected: () => this.refresh(),
      status: () => this.onChange(),
    };
    this.unreadOnly = false;
    this.archived = false;
    this.type = null;
    this.#clear();
  }

  /** Show only unread notifications (history is asked for with `unread_only`), or all again. */
  setUnreadOnly(value) {
    return this.#filter('unreadOnly', Boolean(value));
  }

  /** Show only archived notifications (snoozed ones among them), or the inbox again. */
  setArchived(value) {
    return this.#filter('archived', Boolean(value));
  }

  /** Show only notifications of this type (a registry name), or of every type (null). */
  setType(type) {
    return this.#filter('type', typeof type === 'string' && type ? type : null);
  }

  #filter(key, value) {
    if (value === this[key]) return this.loading ?? Promise.resolve();
    this[key] = value;
    this.#drop();
    return this.refresh();
  }

  /** Whether the server's row belongs in this list as filtered now. */
  #belongs(item) {
    if (this.type !== null && item.type !== this.type) return false;
    return this.archived ? Boolean(item.dismissed_at) : !item.dismissed_at;
  }

  #query(more) {
    const filters = this.archived ? { archived: true } : { unreadOnly: this.unreadOnly };
    return { limit: PAGE_SIZE, ...filters, type: this.type ?? undefined, ...more };
  }

  attach() {
    for (const [type, handler] of Object.entries(this.handlers)) this.client.addEventListener(type, handler);
    this.client.start();
    this.refresh();
  }

  detach() {
    for (const [type, handler] of Object.entries(this.handlers)) this.client.removeEventListener(type, handler);
    this.#clear();
  }

  /** Newest first: archived ones left out (read ones too, with `unreadOnly`), or only they. */
  get items() {
    const items = [...this.byId.values()].sort((a, b) => b.id - a.id);
    return this.unreadOnly && !this.archived ? items.filter(isUnread) : items;
  }

  get status() {
    return this.client.status;
  }

  get hasMore() {
    return this.nextBefore !== null;
  }

  #clear() {
    this.generation = (this.generation || 0) + 1; // answers for an older list are dropped
    this.byId = new Map();
    this.seen = new Set(); // ids ever shown, so a replayed or archived one does not come back
    this.left = new Map(); // id -> item archived or snoozed here, for an instant restore (Undo)
    this.unreadCount = 0;
    // Ids of a user commit in increasing order, so a count the server took after id N covers
    // exactly the notifications up to N: a live one at or below it is counted already.
    this.countedThrough = 0;
    this.maxSeen = 0;
    this.nextBefore = null;
    this.loaded = false;
    this.loading = null;
    this.again = false;
    this.loadingMore = null;
    this.error = null;
  }

  #drop() {
    this.generation += 1;
    this.byId = new Map();
    this.nextBefore = null;
    this.loaded = false;
    this.loading = null;
    this.loadingMore = null;
    this.onChange();
  }

  #see(id) {
    this.seen.add(id);
    this.maxSeen = Math.max(this.maxSeen, id);
  }

  #setCount(value) {
    this.unreadCount = Math.max(0, Math.trunc(Number(value) || 0));
  }

  #failed(error) {
    this.error = error;
    this.onChange();
  }

  /** Load the newest page again; a call while one runs asks for one more after it. */
  refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    const generation = this.generation;
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          const page = await this.client.history(this.#query());
          if (generation !== this.generation) return;
          this.#mergeFirstPage(page);
        } while (this.again && generation === this.generation);
      } catch (error) {
        if (generation === this.generation) this.#failed(error);
      } finally {
        if (generation === this.generation) this.loading = null;
      }
    })();
    return this.loading;
  }

  #mergeFirstPage(page) {
    const ids = new Set();
    for (const item of page.items) {
      this.#see(item.id);
      ids.add(item.id);
      if (this.#belongs(item)) this.byId.set(item.id, item);
      else this.byId.delete(item.id);
    }
    const newest = page.items.length ? page.items[0].id : 0;
    // What the page covers but does not hold was archived meanwhile (another tab or device).
    const oldest = page.next_before === null ? 0 : page.items[page.items.length - 1].id;
    for (const id of [...this.byId.keys()]) {
      if (id >= oldest && id <= newest && !ids.has(id)) this.byId.delete(id);
    }
    let newer = 0; // arrived live after the server took this page
    for (const item of this.byId.values()) if (item.id > newest && isUnread(item)) newer += 1;
    this.#setCount(page.unread_count + newer);
    this.countedThrough = Math.max(this.countedThrough, newest);
    if (!this.loaded) this.nextBefore = page.next_before; // keep the cursor of pages loaded since
    this.loaded = true;
    this.error = null;
    this.onChange();
  }

  loadMore() {
    if (this.loadingMore) return this.loadingMore;
    if (this.nextBefore === null) return Promise.resolve();
    const generation = this.generation;
    this.loadingMore = (async () => {
      try {
        const page = await this.client.history(this.#query({ before: this.nextBefore }));
        if (generation !== this.generation) return;
        for (const item of page.items) {
          this.#see(item.id);
          if (this.#belongs(item)) this.byId.set(item.id, item);
        }
        this.nextBefore = page.next_before;
        this.error = null;
        this.onChange();
      } catch (error) {
        if (generation === this.generation) this.#failed(error);
      } finally {
        if (generation === this.generation) this.loadingMore = null;
      }
    })();
    return this.loadingMore;
  }

  #addLive(notification) {
    if (!notification || !Number.isSafeInteger(notification.id) || this.seen.has(notification.id)) return;
    const { id } = notification;
    this.#see(id);
    // The count is the inbox's whatever the filter; the list takes only what it shows.
    if (this.#belongs(notification)) this.byId.set(id, notification);
    if (isUnread(notification) && id > this.countedThrough) this.#setCount(this.unreadCount + 1);
    this.countedThrough = Math.max(this.countedThrough, id);
    this.onChange();
    // A snoozed one that came back is a new row: its old row is gone from the Archived view.
    if (this.archived && [...this.byId.values()].some((n) => n.snoozed_until)) this.refresh();
  }

  #applyReadState(event) {
    if (!event) return;
    const ids = Array.isArray(event.ids) ? event.ids : [];
    const { bulk, ids: targets } = changedIds(event, this.byId.keys());
    let reload = false;
    if (event.state === 'read' || event.state === 'unread') {
      const readAt = event.state === 'read' ? new Date().toISOString() : null;
      for (const id of targets) {
        const item = this.byId.get(id);
        if (item && !item.read_at !== !readAt) this.byId.set(id, { ...item, read_at: readAt });
      }
      // Marked unread elsewhere and not loaded here: with the filter on, it must appear.
      reload = event.state === 'unread' && (bulk || (this.unreadOnly && ids.some((id) => !this.byId.has(id))));
    } else if (event.state === (this.archived ? 'restored' : 'dismissed')) {
      for (const id of targets) this.byId.delete(id); // it left this view
    } else {
      reload = true; // into this view (`restored`, or `dismissed` in Archived), `sync`, new states
    }
    if (typeof event.unread_count === 'number') {
      this.#setCount(event.unread_count);
      // The count was taken after every notification the stream delivered before it.
      this.countedThrough = Math.max(this.countedThrough, this.maxSeen);
    }
    this.onChange();
    if (reload) this.refresh();
  }

  // --- actions ------------------------------------------------------------------------------

  async #send(call, { add = false } = {}) {
    const generation = this.generation;
    try {
      const row = await call();
      if (generation !== this.generation) return;
      if (row && Number.isSafeInteger(row.id) && (add || this.byId.has(row.id))) {
        if (this.#belongs(row)) this.byId.set(row.id, row);
        else this.byId.delete(row.id);
      }
      this.error = null;
      this.onChange();
    } catch (error) {
      if (generation !== this.generation) return;
      this.#failed(error);
      this.refresh();
    }
  }

  markRead(id) {
    this.client.reportSeen([id]); // it was on screen to be clicked
    const item = this.byId.get(id);
    if (item && isUnread(item)) {
      this.byId.set(id, { ...item, read_at: new Date().toISOString() });
      this.#setCount(this.unreadCount - 1);
      this.onChange();
    }
    return this.#send(() => this.client.markRead(id));
  }

  markUnread(id) {
    const item = this.byId.get(id);
    if (item && item.read_at) {
      this.byId.set(id, { ...item, read_at: null });
      this.#setCount(this.unreadCount + 1);
      this.onChange();
    }
    return this.#send(() => this.client.markUnread(id));
  }

  archive(id) {
    this.#leave(id, {});
    return this.#send(() => this.client.archive(id));
  }

  /**
   * Archive it until `until` (a Date, or an RFC 3339 string with an offset): it leaves the
   * inbox now (marked with `snoozed_until` in the Archived view) and comes back as a new
   * notification, with a new id, at that time, on every device.
   */
  snooze(id, until) {
    const valid = !(until instanceof Date) || !Number.isNaN(until.getTime());
    this.#leave(id, { snoozed_until: valid && until instanceof Date ? until.toISOString() : String(until) });
    return this.#send(() => this.client.snooze(id, until));
  }

  /** Undo archive or snooze: back in the inbox as it was (read or unread). */
  restore(id) {
    const item = this.byId.get(id) ?? this.left.get(id);
    this.left.delete(id);
    if (item && item.dismissed_at) {
      const back = { ...item, dismissed_at: null, snoozed_until: null };
      if (this.#belongs(back)) this.byId.set(id, back);
      else this.byId.delete(id);
      if (isUnread(back)) this.#setCount(this.unreadCount + 1);
      this.onChange();
    }
    return this.#send(() => this.client.restore(id), { add: !this.archived });
  }

  // Shown at once: the item leaves the inbox (in Archived it stays, changed) and is kept for Undo.
  #leave(id, change) {
    const item = this.byId.get(id);
    if (!item) return;
    const changed = { ...item, dismissed_at: item.dismissed_at ?? new Date().toISOString(), ...change };
    if (!item.dismissed_at) this.left.set(id, changed);
    if (this.left.size > KEEP_LEFT) this.left.delete(this.left.keys().next().value);
    if (this.#belongs(changed)) this.byId.set(id, changed);
    else this.byId.delete(id);
    if (isUnread(item)) this.#setCount(this.unreadCount - 1);
    this.onChange();
  }

  /**
   * Report the listed notifications as seen (a view calls it while the whole list is on screen;
   * a view that scrolls reports only the items in view, through `client.reportSeen`).
   */
  reportSeen() {
    this.client.reportSeen(this.items.map((item) => item.id));
  }

  /**
   * Mark read (or archive) everything up to the newest notification on screen: one that arrives
   * while the request travels was never seen, so it stays.
   */
  bulk(kind) {
    let upToId = 0;
    for (const id of this.byId.keys()) upToId = Math.max(upToId, id);
    if (upToId === 0) return Promise.resolve();
    this.reportSeen(); // the list was on screen for the click
    let changed = 0;
    for (const [id, item] of [...this.byId]) {
      if (id > upToId) continue;
      if (isUnread(item)) changed += 1;
      if (kind === 'archive') this.byId.delete(id);
      else if (isUnread(item)) this.byId.set(id, { ...item, read_at: new Date().toISOString() });
    }
    if (kind === 'archive') this.nextBefore = null; // the older pages are archived as well
    // Unread ones on pages not loaded are covered too: the `read_state` event brings the count.
    this.#setCount(this.unreadCount - changed);
    this.onChange();
    return this.#send(() => (kind === 'archive' ? this.client.clearAll(upToId) : this.client.markAllRead(upToId)));
  }
}
