// "Snooze" on a panel row: a button that opens a small menu of times (in an hour, this evening,
// tomorrow morning). A snoozed notification leaves the list and comes back as new at that time
// (the server's, so on every device).
//
// The menu follows the ARIA menu button pattern: Enter/Space/ArrowDown open it on its first
// item, arrows move, Escape closes it (and only it) back to its button, a choice or a pointer
// outside closes it.
import { el } from '../dom.js';

const HOUR_MS = 3_600_000;
const EVENING_HOUR = 18;
const MORNING_HOUR = 8;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });

/** The times offered at `now`: [{label, until: Date}]; "this evening" only before 17:00. */
export function snoozeChoices(now = new Date()) {
  const evening = new Date(now);
  evening.setHours(EVENING_HOUR, 0, 0, 0);
  const morning = new Date(now);
  morning.setDate(morning.getDate() + 1);
  morning.setHours(MORNING_HOUR, 0, 0, 0);
  return [
    { label: '1 hour', until: new Date(now.getTime() + HOUR_MS) },
    evening - now >= HOUR_MS ? { label: `This evening (${timeFormat.format(evening)})`, until: evening } : null,
    { label: `Tomorrow morning (${timeFormat.format(morning)})`, until: morning },
  ].filter(Boolean);
}

/** "18:00" or "Tue 8:00": when a snooze ends, in words for the snackbar. */
export function untilText(until, now = new Date()) {
  const sameDay = until.toDateString() === now.toDateString();
  const day = sameDay ? '' : `${until.toLocaleDateString(undefined, { weekday: 'short' })} `;
  return `${day}${timeFormat.format(until)}`;
}

let counter = 0;

/** A "Snooze" button and its menu, in one wrapper; `pick(until)` when a time is chosen. */
export function snoozeControl(pick) {
  counter += 1;
  const menuId = `snooze-menu-${counter}`;
  const button = el('button', {
    type: 'button',
    className: 'small notice-action snooze',
    'aria-haspopup': 'menu',
    'aria-expanded': 'false',
    'aria-controls': menuId,
    dataset: { role: 'snooze' },
    text: 'Snooze',
  });
  const menu = el('div', { id: menuId, className: 'menu snooze-menu', role: 'menu', 'aria-label': 'Snooze until', hidden: true });
  const wrap = el('div', { className: 'menu-wrap' }, button, menu);
  const items = () => [...menu.querySelectorAll('[role="menuitem"]')];

  function outside(event) {
    if (!wrap.contains(event.target)) close(false);
  }

  function open() {
    menu.replaceChildren(
      ...snoozeChoices().map((choice) =>
        el('button', {
          type: 'button',
          role: 'menuitem',
          tabindex: '-1',
          text: choice.label,
          on: {
            click: () => {
              close(false);
              pick(choice.until);
            },
          },
        }),
      ),
    );
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    items()[0].focus();
    document.addEventListener('pointerdown', outside, true);
  }

  function close(refocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) button.focus();
  }

  button.addEventListener('click', () => (menu.hidden ? open() : close(true)));
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && menu.hidden) {
      event.preventDefault();
      open();
    }
  });
  menu.addEventListener('keydown', (event) => {
    const all = items();
    const at = all.indexOf(document.activeElement);
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      all[(moves[event.key] + all.length) % all.length].focus();
    } else if (event.key === 'Escape' || event.key === 'Tab') {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation(); // closes the menu, not the panel
      }
      close(event.key === 'Escape');
    }
  });
  return wrap;
}
