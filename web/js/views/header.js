// The header: who is logged in, the connection state, and the bell with its unread badge.
import { statusText } from '/client/status.js';
import { byId, el } from '../dom.js';

/** How a student is named on the page: /me's `name` (plain text, shown as text), else the
 * start of their id ("a1b2c3d4…": a UUID in full is noise). */
export function displayName(me) {
  if (me.name) return me.name;
  const id = String(me.user_id || '');
  return id.length > 9 ? `${id.slice(0, 8)}…` : id;
}

// States in which the connection waits for its next try, or for the student (`paused`): then a
// button beside the status tries at once ("Retry now") or takes the stream back ("Resume").
const RETRY = { reconnecting: 'Retry now', unavailable: 'Retry now', too_many_places: 'Retry now', paused: 'Resume' };

/** onRetry(): the student asked to try the connection now. */
export function createHeader({ onRetry } = {}) {
  const bell = byId('bell');
  const badge = byId('badge');
  const connection = byId('connection');
  const connectionText = byId('connection-text');
  const retry = byId('connection-retry');
  retry.addEventListener('click', () => onRetry?.());
  const whoami = byId('whoami');
  let baseTitle = document.title;
  let unread = 0;
  const title = () => {
    document.title = unread > 0 ? `(${unread}) ${baseTitle}` : baseTitle;
  };

  return {
    bell,
    setCount(count) {
      badge.textContent = count > 99 ? '99+' : String(count);
      badge.hidden = count <= 0;
      bell.setAttribute('aria-label', count > 0 ? `Notifications, ${count} unread` : 'Notifications');
      unread = count;
      title();
    },
    /** The page's own title (the unread count goes before it). */
    setTitle(text) {
      baseTitle = text;
      title();
    },
    setStatus(state) {
      connection.dataset.state = state;
      connectionText.textContent = statusText(state);
      connection.title = connectionText.textContent;
      const action = Object.hasOwn(RETRY, state) ? RETRY[state] : null;
      if (action) {
        // Its first word alone on a phone (beside the state in words); the name stays whole.
        const [first, ...rest] = action.split(' ');
        retry.setAttribute('aria-label', action);
        retry.replaceChildren(first, rest.length ? el('span', { className: 'connection-retry-more', text: ` ${rest.join(' ')}` }) : '');
      }
      retry.hidden = action === null;
    },
    /** Who is signed in: `me` is /me's answer (null: nobody). */
    setUser(me) {
      whoami.textContent = me ? displayName(me) : '';
      whoami.title = me ? `Signed in as ${displayName(me)} (${me.user_id})` : '';
    },
  };
}
