// The notification panel under the bell: history newest first, read state, archive, filter.
import { byId, el, placeChildren } from '../dom.js';
import { describe } from '../format.js';
import { isUnread } from '../store.js';
import { timeEl } from './time.js';

// Presentation only: a type without an icon here (any new one) gets the default.
const ICONS = { video_complete: '▶', video_failed: '!', clarification_needed: '?' };

/**
 * `types`: the TypeRegistry (labels). actions: read(n), watch(n), archive(n), markAll(upToId),
 * loadMore(), filter(unreadOnly). Each may return a promise; buttons are disabled while it runs.
 */
export function createPanel(store, types, actions) {
  const bell = byId('bell');
  const panel = byId('panel');
  const list = byId('panel-list');
  const empty = byId('panel-empty');
  const more = byId('panel-more');
  const markAll = byId('panel-mark-all');
  const unreadOnly = byId('panel-unread-only');
  const closeButton = byId('panel-close');
  const nodes = new Map(); // id -> <li>

  function setOpen(open) {
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) (list.querySelector('button') || markAll).focus();
  }

  bell.addEventListener('click', () => setOpen(panel.hidden));
  closeButton.addEventListener('click', () => {
    setOpen(false);
    bell.focus();
  });
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      setOpen(false);
      bell.focus();
    }
  });

  async function busy(button, work) {
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
      render();
    }
  }

  more.addEventListener('click', () => busy(more, actions.loadMore));
  markAll.addEventListener('click', () => {
    // The watermark is the newest notification on screen: one arriving meanwhile stays unread.
    const upToId = store.newestId();
    if (upToId > 0) busy(markAll, () => actions.markAll(upToId));
  });
  unreadOnly.addEventListener('change', () => actions.filter(unreadOnly.checked));

  function create(n) {
    if (!types.has(n.type)) types.ensure(n.type); // a new type: its label comes with `change`
    const text = describe(n, types);
    const main = el(
      'button',
      { type: 'button', className: 'notice-main', on: { click: () => actions.read(store.get(n.id) || n) } },
      el('span', { className: 'notice-icon', 'aria-hidden': 'true', text: ICONS[n.type] || '•' }),
      el(
        'span',
        { className: 'notice-text' },
        el('span', { className: 'notice-heading', text: text.heading }),
        el('span', { className: 'notice-body', text: text.body }),
      ),
      timeEl(n.timestamp, 'notice-time'),
      el('span', { className: 'visually-hidden notice-state' }),
    );
    const buttons = [];
    if (n.type === 'video_complete' && n.payload && n.payload.video_url) {
      buttons.push(
        el('button', { type: 'button', className: 'small', text: 'Watch', on: { click: () => actions.watch(store.get(n.id) || n) } }),
      );
    }
    const archive = el('button', {
      type: 'button',
      className: 'icon-button archive',
      'aria-label': 'Archive notification',
      title: 'Archive',
      text: '×',
    });
    archive.addEventListener('click', () => busy(archive, () => actions.archive(n)));
    buttons.push(archive);
    return el(
      'li',
      { className: `notice type-${n.type}`, dataset: { id: String(n.id), type: n.type } },
      main,
      el('div', { className: 'notice-actions' }, ...buttons),
    );
  }

  function render() {
    const shown = store.visible();
    const keep = new Set();
    const ordered = shown.map((n) => {
      keep.add(n.id);
      let node = nodes.get(n.id);
      if (!node) {
        node = create(n);
        nodes.set(n.id, node);
      }
      const unread = isUnread(n);
      node.classList.toggle('unread', unread);
      node.querySelector('.notice-state').textContent = unread ? ' (unread)' : '';
      return node;
    });
    for (const id of [...nodes.keys()]) if (!keep.has(id)) nodes.delete(id);
    placeChildren(list, ordered);
    empty.hidden = shown.length > 0 || !store.loaded;
    empty.textContent = store.unreadOnly ? 'No unread notifications.' : 'No notifications yet.';
    more.hidden = store.nextBefore === null;
    markAll.disabled = !shown.some(isUnread);
    unreadOnly.checked = store.unreadOnly;
  }

  store.addEventListener('change', render);
  types.addEventListener('change', () => {
    nodes.clear(); // built with the old labels
    render();
  });
  render();
  return { close: () => setOpen(false), render };
}
