// The notification panel under the bell: the inbox or the archived notifications, newest first,
// one row per thread (threads.js: a request's failure, question and video are one row with its
// history), grouped by day; filters by type and unread; Undo after an archive; Snooze.
//
// It draws the package's NotificationList and closes on Escape (wherever the focus is) and on
// a press anywhere outside it. That press only closes the panel: the click it would make on
// whatever is under it (a "Watch" button) is swallowed. After an action removes or changes a
// row, the keyboard focus stays on that row's control, or moves to the next row (the previous,
// at the end), or to the panel's heading when the list is empty; it never drops to <body>.
import { byId, el, placeChildren } from '../dom.js';
import { dayKey, dayLabel } from '../format.js';
import { noticeRow } from './notice-row.js';
import { createSnackbar } from './snackbar.js';
import { untilText } from './snooze.js';
import { isUnread, threadsOf } from './threads.js';

/**
 * `types`: the TypeRegistry (labels). actions: open(n) (its subject), onToggle(open), seen(ids)
 * (for the delivery analytics: the notifications at least half in view while the panel is open
 * and the page visible, each row watched by the panel's IntersectionObserver; one loaded below
 * the fold is not reported until it is scrolled into view).
 * `setList(list)` gives it the session's NotificationList (null after logout).
 */
export function createPanel(types, actions) {
  const bell = byId('bell');
  const wrap = bell.parentElement;
  const panel = byId('panel');
  const heading = byId('panel-title');
  const list = byId('panel-list');
  const empty = byId('panel-empty');
  const more = byId('panel-more');
  const markAll = byId('panel-mark-all');
  const unreadOnly = byId('panel-unread-only');
  const unreadWrap = byId('panel-unread-wrap');
  const typeFilter = byId('panel-type');
  const tabs = [byId('panel-tab-inbox'), byId('panel-tab-archived')];
  const closeButton = byId('panel-close');
  const error = byId('panel-error');
  const snackbar = createSnackbar(panel);
  const rows = new Map(); // thread key -> row (notice-row.js)
  const days = new Map(); // day key -> {section, ul}
  let notices = null; // the session's NotificationList
  let archivedView = false;
  const inView = new Set(); // rows at least half in view
  const SEEN_RATIO = 0.5;
  const watcher =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (entry.isIntersecting && entry.intersectionRatio >= SEEN_RATIO) inView.add(entry.target);
              else inView.delete(entry.target);
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
    else {
      snackbar.hide();
      if (refocus || hadFocus) bell.focus();
    }
  }

  bell.addEventListener('click', () => setOpen(!isOpen()));
  closeButton.addEventListener('click', () => setOpen(false, { refocus: true }));
  // Anywhere on the page, unless a dialog (the player, preferences) is on top: it has its own.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen() && !document.querySelector('dialog[open]')) {
      setOpen(false, { refocus: true });
    }
  });
  // A press outside closes the panel and does nothing else: the click that follows it (the
  // same gesture) never reaches what was under the finger.
  let swallowClick = false;
  document.addEventListener(
    'pointerdown',
    (event) => {
      swallowClick = false;
      if (isOpen() && !wrap.contains(event.target) && !document.querySelector('dialog[open]')) {
        swallowClick = true;
        event.preventDefault(); // no focus change, no mouse events for it either
        setOpen(false);
      }
    },
    true,
  );
  window.addEventListener(
    'click',
    (event) => {
      if (!swallowClick) return;
      swallowClick = false;
      event.preventDefault();
      event.stopImmediatePropagation();
    },
    true,
  );

  // --- keeping the keyboard focus -----------------------------------------------------------

  const ordered = () => [...list.querySelectorAll('li.notice')];

  function focusAfter(node, role, index) {
    const active = document.activeElement;
    if (active && active !== document.body && panel.contains(active) && !active.hidden) return;
    const pick = (row) => {
      const control = row.querySelector(`[data-role="${role}"]`);
      return control && !control.hidden ? control : row.querySelector('.notice-main');
    };
    if (node.isConnected) return pick(node).focus();
    const all = ordered();
    const next = all[Math.min(index, all.length - 1)];
    if (next) pick(next).focus();
    else heading.focus();
  }

  /** Run `work` for a row's thread; keep the focus in the panel if it was on that row. */
  function act(thread, role, work) {
    const row = rows.get(thread.key);
    if (!notices || !row || row.node.dataset.busy) return;
    const node = row.node;
    const hadFocus = node.contains(document.activeElement);
    const index = ordered().indexOf(node);
    node.dataset.busy = 'true';
    const keep = () => hadFocus && focusAfter(node, role, index);
    const running = Promise.all(work());
    keep(); // the list changed at once (it shows actions before the server answers)
    running.finally(() => {
      delete node.dataset.busy;
      render();
      keep();
    });
  }

  const each = (thread, call) => thread.items.map((n) => call(n.id));
  const rowActions = {
    open: (n) => actions.open(n),
    read: (thread) => act(thread, 'read', () => each({ items: thread.items.filter(isUnread) }, (id) => notices.markRead(id))),
    unread: (thread) => act(thread, 'read', () => [notices.markUnread(thread.head.id)]),
    archive(thread) {
      act(thread, 'archive', () => each(thread, (id) => notices.archive(id)));
      snackbar.show(thread.items.length > 1 ? 'Archived the conversation.' : 'Archived.', () => restore(thread));
    },
    restore(thread) {
      act(thread, 'restore', () => each(thread, (id) => notices.restore(id)));
      snackbar.show('Restored to the inbox.');
    },
    snooze(thread, until) {
      act(thread, 'snooze', () => each(thread, (id) => notices.snooze(id, until.toISOString())));
      snackbar.show(`Snoozed until ${untilText(until)}.`, () => restore(thread));
    },
  };

  /** Undo an archive or a snooze: the thread is back (at once) and the focus on its row. */
  function restore(thread) {
    if (!notices) return;
    const running = Promise.all(thread.items.map((n) => notices.restore(n.id)));
    const row = rows.get(thread.key);
    if (row && row.node.isConnected) row.node.querySelector('.notice-main').focus();
    else heading.focus();
    running.finally(render);
  }

  // --- the tools: view, type, unread only, mark all read, load more -------------------------

  async function busy(button, work) {
    const hadFocus = button === document.activeElement;
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
      render();
      if (hadFocus && !panel.contains(document.activeElement)) (button.hidden || button.disabled ? heading : button).focus();
    }
  }

  more.addEventListener('click', () => notices && busy(more, () => notices.loadMore()));
  markAll.addEventListener('click', () => notices && busy(markAll, () => notices.bulk('read')));
  unreadOnly.addEventListener('change', () => notices && notices.setUnreadOnly(unreadOnly.checked));
  typeFilter.addEventListener('change', () => notices && notices.setType(typeFilter.value || null));

  function setView(archived, { focus = false } = {}) {
    if (archived !== archivedView && notices) notices.setArchived(archived);
    archivedView = archived;
    tabs.forEach((tab, index) => {
      const selected = index === (archived ? 1 : 0);
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    });
    list.setAttribute('aria-labelledby', tabs[archived ? 1 : 0].id);
    snackbar.hide();
    render();
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => setView(index === 1));
    tab.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowLeft' || event.key === 'ArrowRight' || event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        setView(event.key === 'ArrowRight' || event.key === 'End', { focus: true });
      }
    });
  });

  function fillTypes() {
    const chosen = typeFilter.value;
    typeFilter.replaceChildren(
      el('option', { value: '', text: 'All types' }),
      ...types.list().map((type) => el('option', { value: type.name, text: types.label(type.name) })),
    );
    typeFilter.value = [...typeFilter.options].some((option) => option.value === chosen) ? chosen : '';
  }

  // --- drawing ------------------------------------------------------------------------------

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
    if (!isOpen() || !notices || !inView.size || document.visibilityState !== 'visible') return;
    const ids = [];
    for (const node of inView) for (const id of (node.dataset.ids || '').split(',')) if (id) ids.push(Number(id));
    if (ids.length) actions.seen(ids);
  }
  document.addEventListener('visibilitychange', reportSeen); // in view while hidden: seen on return

  function forgetAll() {
    rows.clear();
    inView.clear();
    if (watcher) watcher.disconnect();
  }

  function render() {
    const threads = threadsOf(notices ? notices.items : []);
    const keep = new Set();
    const groups = [];
    for (const thread of threads) {
      keep.add(thread.key);
      let row = rows.get(thread.key);
      if (!row) {
        row = noticeRow(thread, types, rowActions);
        rows.set(thread.key, row);
        if (watcher) watcher.observe(row.node);
      }
      row.update(thread, archivedView);
      const key = dayKey(thread.head.timestamp);
      if (!groups.length || groups[groups.length - 1].key !== key) groups.push({ ...day(key), items: [] });
      groups[groups.length - 1].items.push(row.node);
    }
    for (const [key, row] of [...rows]) {
      if (keep.has(key)) continue;
      rows.delete(key);
      inView.delete(row.node);
      if (watcher) watcher.unobserve(row.node);
    }
    for (const group of groups) placeChildren(group.ul, group.items);
    placeChildren(
      list,
      groups.map((group) => group.section),
    );
    for (const key of [...days.keys()]) if (!groups.some((group) => group.key === key)) days.delete(key);
    const loaded = notices ? notices.loaded : false;
    empty.hidden = threads.length > 0 || !loaded;
    empty.textContent = archivedView
      ? 'No archived notifications.'
      : typeFilter.value
        ? 'No notifications of this type.'
        : notices && notices.unreadOnly
          ? 'No unread notifications.'
          : 'No notifications yet.';
    more.hidden = !notices || !notices.hasMore;
    // Unread ones on pages not loaded count too: "mark all read" covers every id up to the
    // newest one shown (nothing shown: nothing to mark up to).
    markAll.hidden = archivedView;
    unreadWrap.hidden = archivedView;
    markAll.disabled = !notices || notices.unreadCount === 0 || threads.length === 0;
    unreadOnly.checked = Boolean(notices && notices.unreadOnly);
    error.textContent = notices && notices.error && notices.error.status !== 401 ? notices.error.message : '';
  }

  types.addEventListener('change', () => {
    fillTypes();
    for (const row of rows.values()) row.node.remove(); // built with the old labels
    forgetAll();
    render();
  });
  fillTypes();
  render();
  return {
    setList(next) {
      notices = next;
      archivedView = false;
      typeFilter.value = '';
      forgetAll();
      setView(false);
    },
    render,
    close: () => setOpen(false),
  };
}
