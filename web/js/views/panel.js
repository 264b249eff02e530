// The notification panel under the bell: history newest first and grouped by day, with each
// notification's thumbnail, read state (either way) and archive; the unread filter.
//
// It draws the package's NotificationList and closes on Escape (wherever the focus is) and on
// a click anywhere outside it. Clicking a notification opens its subject (`actions.open`).
import { byId, el, placeChildren, safeUrl } from '../dom.js';
import { describe, kindOf } from '/client/types.js';
import { dayKey, dayLabel } from '../format.js';
import { timeEl } from './time.js';

const isUnread = (n) => !n.read_at && !n.dismissed_at;

/**
 * `types`: the TypeRegistry (labels). actions: open(n) (its subject), onToggle(open), seen(ids)
 * (for the delivery analytics: the notifications at least half in view while the panel is open
 * and the page visible, each item watched by the panel's IntersectionObserver; one loaded below
 * the fold is not reported until it is scrolled into view).
 * `setList(list)` gives it the session's NotificationList (null after logout).
 */
export function createPanel(types, actions) {
  const bell = byId('bell');
  const wrap = bell.parentElement;
  const panel = byId('panel');
  const list = byId('panel-list');
  const empty = byId('panel-empty');
  const more = byId('panel-more');
  const markAll = byId('panel-mark-all');
  const unreadOnly = byId('panel-unread-only');
  const closeButton = byId('panel-close');
  const error = byId('panel-error');
  const nodes = new Map(); // id -> <li>
  const latest = new Map(); // id -> the notification as last drawn
  const days = new Map(); // day key -> {section, ul}
  let notices = null; // the session's NotificationList
  const inView = new Set(); // ids of the items at least half in view
  const SEEN_RATIO = 0.5;
  const watcher =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              const id = Number(entry.target.dataset.id);
              if (entry.isIntersecting && entry.intersectionRatio >= SEEN_RATIO) inView.add(id);
              else inView.delete(id);
            }
            reportSeen();
          },
          { threshold: SEEN_RATIO },
        )
      : null;

  const isOpen = () => !panel.hidden;

  function setOpen(open, { refocus = false } = {}) {
    if (open === isOpen()) return;
    const hadFocus = panel.contains(document.activeElement);
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    actions.onToggle(open); // opening: the observer reports the items that come into view
    if (open) (list.querySelector('button') || markAll).focus();
    else if (refocus || hadFocus) bell.focus();
  }

  bell.addEventListener('click', () => setOpen(!isOpen()));
  closeButton.addEventListener('click', () => setOpen(false, { refocus: true }));
  // Anywhere on the page, unless a dialog (the player, preferences) is on top: it has its own.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen() && !document.querySelector('dialog[open]')) {
      setOpen(false, { refocus: true });
    }
  });
  document.addEventListener(
    'pointerdown',
    (event) => {
      if (isOpen() && !wrap.contains(event.target) && !document.querySelector('dialog[open]')) setOpen(false);
    },
    true,
  );

  async function busy(button, work) {
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
      render();
    }
  }

  more.addEventListener('click', () => notices && busy(more, () => notices.loadMore()));
  markAll.addEventListener('click', () => notices && busy(markAll, () => notices.bulk('read')));
  unreadOnly.addEventListener('change', () => notices && notices.setUnreadOnly(unreadOnly.checked));

  // A video's thumbnail, else the type's icon (a type the registry does not name: the default).
  function visual(n) {
    const kind = kindOf(n.type);
    const thumb = kind.click === 'watch' && n.payload ? safeUrl(n.payload.thumbnail_url) : null;
    const icon = el('span', { className: 'notice-icon', 'aria-hidden': 'true', text: kind.icon });
    if (!thumb) return icon;
    const img = el('img', { className: 'notice-thumb', src: thumb, alt: '', loading: 'lazy' });
    img.addEventListener('error', () => img.replaceWith(icon)); // no thumbnail after all
    return img;
  }

  function create(n) {
    if (!types.has(n.type)) types.ensure(n.type); // a new type: its label comes with `change`
    const text = describe(n, types);
    const current = () => latest.get(n.id) || n;
    const main = el(
      'button',
      { type: 'button', className: 'notice-main', on: { click: () => actions.open(current()) } },
      visual(n),
      el(
        'span',
        { className: 'notice-text' },
        el('span', { className: 'notice-heading', text: text.heading }),
        el('span', { className: 'notice-body', text: text.body }),
        timeEl(n.timestamp, 'notice-time'),
      ),
      el('span', { className: 'visually-hidden notice-state' }),
    );
    const toggle = el('button', { type: 'button', className: 'icon-button read-toggle' });
    toggle.addEventListener('click', () =>
      busy(toggle, () => (isUnread(current()) ? notices.markRead(n.id) : notices.markUnread(n.id))),
    );
    const archive = el('button', {
      type: 'button',
      className: 'icon-button archive',
      'aria-label': 'Archive notification',
      title: 'Archive',
      text: '×',
    });
    archive.addEventListener('click', () => busy(archive, () => notices.archive(n.id)));
    return el(
      'li',
      { className: `notice tone-${kindOf(n.type).tone}`, dataset: { id: String(n.id), type: n.type } },
      main,
      el('div', { className: 'notice-actions' }, toggle, archive),
    );
  }

  function update(node, n) {
    const unread = isUnread(n);
    node.classList.toggle('unread', unread);
    node.querySelector('.notice-state').textContent = unread ? ' (unread)' : '';
    const toggle = node.querySelector('.read-toggle');
    const label = unread ? 'Mark as read' : 'Mark as unread';
    toggle.setAttribute('aria-label', label);
    toggle.title = label;
    toggle.textContent = unread ? '●' : '○';
  }

  function day(key) {
    let group = days.get(key);
    if (!group) {
      const ul = el('ul', { className: 'notices' });
      group = { key, ul, section: el('section', { className: 'day' }, el('h3', { className: 'day-label' }), ul) };
      days.set(key, group);
    }
    group.section.querySelector('.day-label').textContent = dayLabel(key);
    return group;
  }

  function reportSeen() {
    if (isOpen() && notices && inView.size && document.visibilityState === 'visible') actions.seen([...inView]);
  }
  document.addEventListener('visibilitychange', reportSeen); // in view while hidden: seen on return

  function forgetAll() {
    nodes.clear();
    inView.clear();
    if (watcher) watcher.disconnect();
  }

  function render() {
    const shown = notices ? notices.items : [];
    const keep = new Set();
    const groups = [];
    latest.clear();
    for (const n of shown) {
      keep.add(n.id);
      latest.set(n.id, n);
      let node = nodes.get(n.id);
      if (!node) {
        node = create(n);
        nodes.set(n.id, node);
        if (watcher) watcher.observe(node);
      }
      update(node, n);
      const key = dayKey(n.timestamp);
      if (!groups.length || groups[groups.length - 1].key !== key) groups.push({ ...day(key), items: [] });
      groups[groups.length - 1].items.push(node);
    }
    for (const [id, node] of [...nodes]) {
      if (keep.has(id)) continue;
      nodes.delete(id);
      inView.delete(id);
      if (watcher) watcher.unobserve(node);
    }
    for (const group of groups) placeChildren(group.ul, group.items);
    placeChildren(
      list,
      groups.map((group) => group.section),
    );
    for (const key of [...days.keys()]) if (!groups.some((group) => group.key === key)) days.delete(key);
    const loaded = notices ? notices.loaded : false;
    empty.hidden = shown.length > 0 || !loaded;
    empty.textContent = notices && notices.unreadOnly ? 'No unread notifications.' : 'No notifications yet.';
    more.hidden = !notices || !notices.hasMore;
    // Unread ones on pages not loaded count too: "mark all read" covers every id up to the
    // newest one shown (nothing shown: nothing to mark up to).
    markAll.disabled = !notices || notices.unreadCount === 0 || shown.length === 0;
    unreadOnly.checked = Boolean(notices && notices.unreadOnly);
    error.textContent = notices && notices.error && notices.error.status !== 401 ? notices.error.message : '';
  }

  types.addEventListener('change', () => {
    forgetAll(); // built with the old labels
    render();
  });
  render();
  return {
    setList(next) {
      notices = next;
      forgetAll();
      render();
    },
    render,
    close: () => setOpen(false),
  };
}
