// One row of the notification panel: a thread (threads.js) drawn as its newest notification,
// with labelled actions and the earlier notifications as an expandable history.
//
// In the inbox a row offers "Mark read"/"Mark unread", "Archive" and "Snooze"; in the Archived
// view "Restore". On a touch screen a row swipes too: left archives (restores, when archived),
// right marks read or unread. Every action covers the whole thread. Controls are never
// disabled while they work (a disabled button drops the keyboard focus to <body>): a second
// press meanwhile is ignored instead.
import { el, safeUrl } from '../dom.js';
import { describe, kindOf } from '/client/types.js';
import { snoozeControl, untilText } from './snooze.js';
import { swipeable } from './swipe.js';
import { timeEl } from './time.js';

let counter = 0;

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

function entry(n, types) {
  const text = describe(n, types);
  return el(
    'div',
    { className: 'history-entry', dataset: { id: String(n.id) } },
    el('span', { className: 'notice-heading', text: text.heading }),
    el('span', { className: 'notice-body', text: text.body }),
    timeEl(n.timestamp, 'notice-time'),
  );
}

/**
 * A row for `thread`. `types`: the TypeRegistry; actions: open(n), read(thread), unread(thread),
 * archive(thread), restore(thread), snooze(thread, until); each gets the row's current thread.
 * Returns {node, update(thread, archivedView)}.
 */
export function noticeRow(thread, types, actions) {
  counter += 1;
  const historyId = `notice-history-${counter}`;
  let current = thread;
  let headId = null;
  let historyKey = null;
  let archivedView = null;

  const node = el('li', { className: 'notice', dataset: { thread: thread.key } });
  const slot = el('div', { className: 'notice-slot' });
  const state = el('span', { className: 'notice-state' });
  const toggle = el('button', { type: 'button', className: 'small notice-action read-toggle', dataset: { role: 'read' } });
  const archive = el('button', { type: 'button', className: 'small notice-action archive', dataset: { role: 'archive' }, text: 'Archive' });
  const restore = el('button', { type: 'button', className: 'small notice-action restore', dataset: { role: 'restore' }, text: 'Restore' });
  const snooze = snoozeControl((until) => actions.snooze(current, until));
  const historyButton = el('button', {
    type: 'button',
    className: 'small notice-action history-toggle',
    'aria-expanded': 'false',
    'aria-controls': historyId,
    dataset: { role: 'history' },
  });
  const history = el('div', { id: historyId, className: 'notice-history', role: 'group', hidden: true });
  const tools = el('div', { className: 'notice-actions' }, historyButton, toggle, archive, restore, snooze);
  node.append(slot, tools, history);

  toggle.addEventListener('click', () => (current.unread ? actions.read(current) : actions.unread(current)));
  archive.addEventListener('click', () => actions.archive(current));
  restore.addEventListener('click', () => actions.restore(current));
  historyButton.addEventListener('click', () => {
    history.hidden = !history.hidden;
    historyButton.setAttribute('aria-expanded', String(!history.hidden));
  });
  swipeable(node, {
    left: () => (archivedView ? actions.restore(current) : actions.archive(current)),
    right: () => !archivedView && (current.unread ? actions.read(current) : actions.unread(current)),
  });

  function drawHead(n) {
    if (!types.has(n.type)) types.ensure(n.type); // a new type: its label comes with `change`
    const text = describe(n, types);
    const main = el(
      'button',
      { type: 'button', className: 'notice-main', on: { click: () => actions.open(current.head) } },
      visual(n),
      el(
        'span',
        { className: 'notice-text' },
        el('span', { className: 'notice-heading', text: text.heading }),
        el('span', { className: 'notice-body', text: text.body }),
        el('span', { className: 'notice-meta' }, timeEl(n.timestamp, 'notice-time'), state),
      ),
    );
    const hadFocus = slot.contains(document.activeElement);
    slot.replaceChildren(main);
    if (hadFocus) main.focus();
    node.className = `notice tone-${kindOf(n.type).tone}`;
  }

  function update(next, inArchive) {
    current = next;
    const { head } = next;
    if (head.id !== headId) {
      headId = head.id;
      drawHead(head);
    }
    node.dataset.id = String(head.id);
    node.dataset.type = head.type;
    node.dataset.ids = next.items.map((n) => n.id).join(',');
    archivedView = inArchive;
    node.classList.toggle('unread', next.unread && !inArchive);
    const snoozed = inArchive && head.snoozed_until ? new Date(head.snoozed_until) : null;
    state.textContent = snoozed ? `Snoozed until ${untilText(snoozed)}` : next.unread && !inArchive ? 'Unread' : '';
    state.classList.toggle('snoozed', Boolean(snoozed));
    state.hidden = !state.textContent;
    toggle.textContent = next.unread ? 'Mark read' : 'Mark unread';
    toggle.hidden = inArchive;
    archive.hidden = inArchive;
    snooze.hidden = inArchive;
    restore.hidden = !inArchive;
    const key = next.history.map((n) => n.id).join(',');
    if (key !== historyKey) {
      historyKey = key;
      history.replaceChildren(...next.history.map((n) => entry(n, types)));
    }
    historyButton.hidden = next.history.length === 0;
    historyButton.textContent = `History (${next.history.length})`; // open or not: aria-expanded
    if (!next.history.length) history.hidden = true;
    historyButton.setAttribute('aria-expanded', String(!history.hidden));
  }

  update(thread, false);
  return { node, update, ids: () => current.items.map((n) => n.id) };
}
