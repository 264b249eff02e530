// Client state of the notification center: notifications by id and the unread count.
// No DOM and no network here; views listen for `change`, main.js feeds it.
//
// The count is the server's number plus what arrived since. History answers and `read_state`
// events carry the server's count; the stream adds one per new unread notification. Ids of a
// user commit in increasing order, so a history answer whose newest id is N counted exactly
// the notifications up to N: anything newer we already hold is added on top, and a stream event
// at or below `countedThrough` is never counted twice.

export const isUnread = (n) => !n.read_at && !n.dismissed_at;

export class Store extends EventTarget {
  constructor() {
    super();
    this.generation = 0; // bumped whenever the list is dropped; older answers are stale
    this.clear();
  }

  /** Forget everything (logout). */
  clear() {
    this.items = new Map(); // id -> notification, archived ones removed
    this.seen = new Set(); // every id ever received: toasts show once, archived stay gone
    this.unreadCount = 0;
    this.countedThrough = 0;
    this.maxSeen = 0;
    this.nextBefore = null;
    this.loaded = false;
    this.unreadOnly = false;
    this.generation += 1;
    this.#emit();
  }

  /** Drop the list (not `seen`) before loading it again, e.g. after `reset` or a filter change. */
  resetList() {
    this.items.clear();
    this.nextBefore = null;
    this.loaded = false;
    this.generation += 1;
    this.#emit();
  }

  setUnreadOnly(value) {
    this.unreadOnly = Boolean(value);
    this.resetList();
  }

  /** Notifications to show, newest first. */
  visible() {
    const list = [...this.items.values()].sort((a, b) => b.id - a.id);
    return this.unreadOnly ? list.filter(isUnread) : list;
  }

  newestId() {
    let newest = 0;
    for (const id of this.items.keys()) newest = Math.max(newest, id);
    return newest;
  }

  get(id) {
    return this.items.get(id);
  }

  #see(id) {
    this.seen.add(id);
    this.maxSeen = Math.max(this.maxSeen, id);
  }

  #setCount(value) {
    this.unreadCount = Math.max(0, Math.trunc(Number(value) || 0));
  }

  /** A notification from the stream; true when it is new to this page. */
  addLive(notification) {
    const { id } = notification;
    if (this.seen.has(id)) return false;
    this.#see(id);
    if (!notification.dismissed_at) this.items.set(id, { dismissed_at: null, ...notification });
    if (isUnread(notification) && id > this.countedThrough) this.#setCount(this.unreadCount + 1);
    this.countedThrough = Math.max(this.countedThrough, id);
    this.#emit();
    return true;
  }

  /** A page of `/history`; `first` when it is the newest page (a load or a refresh). */
  mergePage(page, { first }) {
    const ids = new Set();
    for (const item of page.items) {
      this.#see(item.id);
      ids.add(item.id);
      if (item.dismissed_at) this.items.delete(item.id);
      else this.items.set(item.id, item);
    }
    if (first) {
      const newest = page.items.length ? page.items[0].id : 0;
      // What the page covers and does not hold was archived (or read, with the filter on).
      const oldest = page.next_before === null ? 0 : page.items[page.items.length - 1].id;
      for (const id of [...this.items.keys()]) {
        if (id >= oldest && id <= newest && !ids.has(id)) this.items.delete(id);
      }
      let newer = 0;
      for (const item of this.items.values()) if (item.id > newest && isUnread(item)) newer += 1;
      this.#setCount(page.unread_count + newer);
      this.countedThrough = Math.max(this.countedThrough, newest);
      // A refresh after "load more" keeps the older cursor: those pages are still here.
      if (!this.loaded) this.nextBefore = page.next_before;
    } else {
      this.nextBefore = page.next_before;
    }
    this.loaded = true;
    this.#emit();
  }

  /**
   * A `read_state` event. Returns true when the list should be reloaded from the server
   * (`sync`, `restored`, anything unknown, or an item that must appear and is not here).
   */
  applyReadState(event) {
    const ids = Array.isArray(event.ids) ? event.ids : [];
    // The event lists at most 100 ids; a bigger change covers every id up to `up_to_id`.
    const bulk =
      typeof event.up_to_id === 'number' && (event.ids == null || (event.changed ?? 0) > ids.length);
    const targets = bulk ? [...this.items.keys()].filter((id) => id <= event.up_to_id) : ids;
    let reload = false;
    switch (event.state) {
      case 'read': {
        const now = new Date().toISOString();
        for (const id of targets) {
          const item = this.items.get(id);
          if (item && !item.read_at) item.read_at = now;
        }
        break;
      }
      case 'unread':
        if (bulk) reload = true;
        for (const id of targets) {
          const item = this.items.get(id);
          if (item) item.read_at = null;
          else if (this.unreadOnly) reload = true;
        }
        break;
      case 'dismissed':
        for (const id of targets) this.items.delete(id);
        break;
      default:
        reload = true;
    }
    if (typeof event.unread_count === 'number') {
      this.#setCount(event.unread_count);
      // The count was taken after every notification this stream delivered before it.
      this.countedThrough = Math.max(this.countedThrough, this.maxSeen);
    }
    this.#emit();
    return reload;
  }

  /** Mark read here before the server answers; true when it was unread. */
  markRead(id) {
    const item = this.items.get(id);
    if (!item || !isUnread(item)) return false;
    item.read_at = new Date().toISOString();
    this.#setCount(this.unreadCount - 1);
    this.#emit();
    return true;
  }

  /** Mark every notification up to `upToId` read here; returns how many changed. */
  markAllRead(upToId) {
    const now = new Date().toISOString();
    let changed = 0;
    for (const item of this.items.values()) {
      if (item.id <= upToId && isUnread(item)) {
        item.read_at = now;
        changed += 1;
      }
    }
    this.#setCount(this.unreadCount - changed);
    this.#emit();
    return changed;
  }

  /** Archive here; returns the removed notification, if any. */
  archive(id) {
    const item = this.items.get(id);
    if (!item) return null;
    this.items.delete(id);
    if (isUnread(item)) this.#setCount(this.unreadCount - 1);
    this.#emit();
    return item;
  }

  /** Unread notifications about one content request (to mark read when it is watched). */
  unreadFor(contentId) {
    return [...this.items.values()].filter(
      (item) => isUnread(item) && item.payload && item.payload.content_id === contentId,
    );
  }

  #emit() {
    this.dispatchEvent(new Event('change'));
  }
}
