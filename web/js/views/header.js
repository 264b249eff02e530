// The header: who is logged in, the connection state, and the bell with its unread badge.
import { statusText } from '/client/status.js';
import { byId } from '../dom.js';

export function createHeader() {
  const bell = byId('bell');
  const badge = byId('badge');
  const connection = byId('connection');
  const connectionText = byId('connection-text');
  const whoami = byId('whoami');
  const baseTitle = document.title;

  return {
    bell,
    setCount(count) {
      badge.textContent = count > 99 ? '99+' : String(count);
      badge.hidden = count <= 0;
      bell.setAttribute('aria-label', count > 0 ? `Notifications, ${count} unread` : 'Notifications');
      document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
    },
    setStatus(state) {
      connection.dataset.state = state;
      connectionText.textContent = statusText(state);
      connection.title = connectionText.textContent;
    },
    setUser(userId) {
      whoami.textContent = userId || '';
      whoami.title = userId ? `Signed in as ${userId}` : '';
    },
  };
}
