// <notification-center base-url="https://notify.example">: a bell with the unread count and a
// panel with the history, for pages without React. Everything is drawn inside its shadow root,
// and data only ever reaches the page as `textContent` (never markup).
//
// It makes its own NotificationClient for `base-url` (default: this page's origin), or uses the
// one set as its `client` property. Clicking a notification marks it read and fires a cancelable
// `notification-click` event (detail: the notification); unless cancelled, a video opens in a
// new tab.
import { NotificationClient } from './index.js';
import { NotificationList } from './list.js';
import { STYLES } from './element-style.js';
import { statusText } from './status.js';
import { timeAgo } from './time.js';
import { TypeRegistry, clickAction, describe } from './types.js';

const BELL_PATH =
  'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z';
const MARGIN = 8;

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', BELL_PATH);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

export class NotificationCenterElement extends HTMLElement {
  static observedAttributes = ['base-url'];

  #client = null;
  #given = null; // a client set by the page, not ours to stop
  #list = null;
  #rows = new Map(); // id -> <li>
  #types = null; // the client's TypeRegistry: read on connect, and once more for a type it lacked
  #ui;
  #onOutside;
  #onKey;
  #onViewport;
  #ticker;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const ui = {};
    ui.badge = el('span', { class: 'badge', part: 'badge', hidden: '' });
    ui.bell = el('button', { class: 'bell', part: 'bell', type: 'button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false', 'aria-label': 'Notifications' }, [bellIcon(), ui.badge]);
    ui.status = el('span', { class: 'status', role: 'status' });
    ui.close = el('button', { class: 'close', type: 'button', 'aria-label': 'Close notifications', text: '×' });
    ui.markAll = el('button', { class: 'mark-all', type: 'button', text: 'Mark all read' });
    ui.clearAll = el('button', { class: 'clear-all', type: 'button', text: 'Clear all' });
    ui.error = el('p', { class: 'error', role: 'alert', hidden: '' });
    ui.list = el('ul', { class: 'list' });
    ui.empty = el('p', { class: 'empty', text: 'No notifications yet.', hidden: '' });
    ui.more = el('button', { class: 'more', type: 'button', text: 'Load more', hidden: '' });
    ui.panel = el('section', { class: 'panel', part: 'panel', role: 'dialog', 'aria-label': 'Notifications', hidden: '' }, [
      el('div', { class: 'head' }, [el('h2', { text: 'Notifications' }), ui.status, ui.close]),
      el('div', { class: 'actions' }, [ui.markAll, ui.clearAll]),
      ui.error,
      ui.list,
      ui.empty,
      ui.more,
    ]);
    root.append(el('style', { text: STYLES }), ui.bell, ui.panel);
    this.#ui = ui;

    ui.bell.addEventListener('click', () => (this.open ? this.close() : this.show()));
    ui.close.addEventListener('click', () => this.close());
    ui.markAll.addEventListener('click', () => this.#list?.bulk('read'));
    ui.clearAll.addEventListener('click', () => this.#list?.bulk('archive'));
    ui.more.addEventListener('click', () => this.#list?.loadMore());
    ui.list.addEventListener('click', (event) => this.#onItemClick(event));
    this.#onOutside = (event) => {
      if (this.open && !event.composedPath().includes(this)) this.close();
    };
    this.#onKey = (event) => {
      if (event.key === 'Escape' && this.open) {
        this.close();
        ui.bell.focus();
      }
    };
    this.#onViewport = () => this.open && this.#place();
  }

  /** The client it shows; set it (before or after the element connects) to share one. */
  get client() {
    return this.#client || this.#given;
  }

  set client(client) {
    this.#given = client || null;
    if (this.isConnected) this.#connect();
  }

  get open() {
    return !this.#ui.panel.hidden;
  }

  show() {
    if (this.open) return;
    this.#ui.panel.hidden = false;
    this.#ticker = setInterval(() => this.#render(), 60_000); // "5 minutes ago" moves on
    this.#render();
    this.#ui.bell.setAttribute('aria-expanded', 'true');
    this.#place();
    document.addEventListener('pointerdown', this.#onOutside, true);
    document.addEventListener('keydown', this.#onKey);
    window.addEventListener('resize', this.#onViewport);
    window.addEventListener('scroll', this.#onViewport, true);
  }

  close() {
    clearInterval(this.#ticker);
    this.#ui.panel.hidden = true;
    this.#ui.bell.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.#onOutside, true);
    document.removeEventListener('keydown', this.#onKey);
    window.removeEventListener('resize', this.#onViewport);
    window.removeEventListener('scroll', this.#onViewport, true);
  }

  connectedCallback() {
    this.#connect();
  }

  disconnectedCallback() {
    this.close();
    this.#disconnect();
  }

  attributeChangedCallback(_name, before, after) {
    // Before connecting (the parser sets attributes first) there is nothing to redo.
    if (this.#list && !this.#given && before !== after) this.#connect();
  }

  #connect() {
    this.#disconnect();
    this.#client = this.#given || new NotificationClient({ baseUrl: this.getAttribute('base-url') || undefined });
    const client = this.#client;
    const types = new TypeRegistry(() => client.types());
    types.addEventListener('change', () => types === this.#types && this.#render());
    this.#types = types;
    this.#list = new NotificationList(client, () => this.#render());
    this.#list.attach();
    types.load().catch(() => {}); // headings fall back to the type's name
    this.#render();
  }

  #disconnect() {
    if (!this.#list) return;
    this.#list.detach();
    if (this.#client !== this.#given) this.#client.stop();
    this.#list = null;
    this.#client = null;
    this.#rows.clear();
    this.#ui.list.replaceChildren();
  }

  /** Below the bell, inside the viewport whatever its width (a phone's 390 px included). */
  #place() {
    const panel = this.#ui.panel;
    const bell = this.#ui.bell.getBoundingClientRect();
    const viewport = document.documentElement.clientWidth || window.innerWidth;
    const width = Math.min(384, viewport - 2 * MARGIN);
    const left = Math.max(MARGIN, Math.min(bell.right - width, viewport - width - MARGIN));
    const top = Math.max(MARGIN, bell.bottom + 6);
    Object.assign(panel.style, {
      width: `${width}px`,
      left: `${left}px`,
      top: `${top}px`,
      maxHeight: `${Math.max(200, window.innerHeight - top - MARGIN)}px`,
    });
  }

  #onItemClick(event) {
    const button = event.target.closest('button');
    const row = button && button.closest('li');
    if (!row || !this.#list) return;
    const id = Number(row.dataset.id);
    const item = this.#list.byId.get(id);
    if (!item) return;
    if (button.classList.contains('archive')) {
      this.#list.archive(id);
    } else if (button.classList.contains('toggle')) {
      if (item.read_at) this.#list.markUnread(id);
      else this.#list.markRead(id);
    } else if (button.classList.contains('main')) {
      if (!item.read_at) this.#list.markRead(id);
      const go = new CustomEvent('notification-click', { detail: item, bubbles: true, composed: true, cancelable: true });
      if (this.dispatchEvent(go)) this.#openSubject(item);
    }
  }

  // Its `link` (the subject's page on the service); from a server without links, its video.
  #openSubject(item) {
    let where = typeof item.link === 'string' ? item.link : null;
    if (where === '/') return; // about nothing in particular
    if (where === null && clickAction(item) === 'watch') where = item.payload.video_url;
    if (where === null) return;
    const url = new URL(where, `${this.#client.baseUrl}/`);
    if (url.protocol === 'https:' || url.protocol === 'http:') window.open(url.href, '_blank', 'noopener');
  }

  #render() {
    const list = this.#list;
    if (!list) return;
    const ui = this.#ui;
    const count = list.unreadCount;
    ui.badge.hidden = count === 0;
    ui.badge.textContent = count > 99 ? '99+' : String(count);
    ui.bell.setAttribute('aria-label', count ? `Notifications, ${count} unread` : 'Notifications');
    ui.status.dataset.state = list.status;
    ui.status.textContent = statusText(list.status);
    ui.error.hidden = !list.error;
    ui.error.textContent = list.error ? String(list.error.message || list.error) : '';
    const items = list.items;
    const unknown = this.#types.list().length ? items.find((n) => !this.#types.has(n.type)) : null;
    if (unknown) this.#types.ensure(unknown.type); // a type registered since: read once more
    ui.empty.hidden = !list.loaded || items.length > 0;
    ui.more.hidden = !list.hasMore;
    // Unread ones on pages not loaded count too: "mark all read" covers every id up to the
    // newest one shown (nothing shown: nothing to mark up to).
    ui.markAll.disabled = list.unreadCount === 0 || items.length === 0;
    ui.clearAll.disabled = items.length === 0;

    const keep = new Set(items.map((n) => n.id));
    for (const [id, row] of this.#rows) {
      if (!keep.has(id)) {
        row.remove();
        this.#rows.delete(id);
      }
    }
    items.forEach((n, index) => {
      let row = this.#rows.get(n.id);
      if (!row) {
        row = this.#row(n.id);
        this.#rows.set(n.id, row);
      }
      this.#fill(row, n);
      // Only moved when out of place: moving a node drops the focus inside it.
      if (ui.list.children[index] !== row) ui.list.insertBefore(row, ui.list.children[index] || null);
    });
  }

  #row(id) {
    const row = el('li', { class: 'item', 'data-id': String(id) }, [
      el('button', { class: 'main', type: 'button' }, [
        el('span', { class: 'title' }),
        el('span', { class: 'body' }),
        el('time', { class: 'time' }),
      ]),
      el('div', { class: 'item-actions' }, [
        el('button', { class: 'icon toggle', type: 'button' }),
        el('button', { class: 'icon archive', type: 'button', 'aria-label': 'Archive', title: 'Archive', text: '×' }),
      ]),
    ]);
    return row;
  }

  #fill(row, n) {
    const { heading: title, body } = describe(n, this.#types);
    const unread = !n.read_at;
    row.classList.toggle('unread', unread);
    row.querySelector('.title').textContent = title;
    const text = row.querySelector('.body');
    text.textContent = body;
    text.hidden = !body;
    const time = row.querySelector('.time');
    time.textContent = timeAgo(n.timestamp);
    time.dateTime = n.timestamp;
    const toggle = row.querySelector('.toggle');
    const label = unread ? 'Mark as read' : 'Mark as unread';
    toggle.setAttribute('aria-label', label);
    toggle.title = label;
    toggle.textContent = unread ? '✓' : '↺';
  }
}

if (!customElements.get('notification-center')) {
  customElements.define('notification-center', NotificationCenterElement);
}
