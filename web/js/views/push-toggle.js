// "Notify me when the tab is closed": this browser's Web Push subscription (the client
// package's push.js). Shown disabled, saying why, when the server or the browser cannot push
// (as the email digest does), so the option never silently disappears.
import { byId } from '../dom.js';
import { disablePush, enablePush, pushState } from '/client/push.js';

const NOTES = {
  enabled: 'Pushed to this browser when no tab of the app is open.',
  disabled: 'Your browser will ask for permission.',
  denied: 'Your browser blocks notifications from this site: allow them in its site settings.',
  off: 'Not available on this server.',
  unsupported: 'This browser cannot receive notifications while the app is closed.',
};
const UNUSABLE = new Set(['denied', 'off', 'unsupported']);

/** The toggle; `refresh()` reads the state again (on opening the preferences). */
export function createPushToggle({ onError }) {
  const row = byId('prefs-push-row');
  const box = byId('prefs-push');
  const note = byId('prefs-push-note');

  function show(state) {
    row.hidden = false;
    box.checked = state === 'enabled';
    box.disabled = UNUSABLE.has(state);
    row.dataset.state = state;
    note.textContent = NOTES[state] || '';
  }

  // A change is a click: the user gesture the permission prompt needs.
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      show(await (box.checked ? enablePush() : disablePush()));
    } catch (error) {
      box.checked = !box.checked;
      box.disabled = false;
      onError(error);
    }
  });

  return {
    async refresh() {
      try {
        show(await pushState());
      } catch {
        show('unsupported');
      }
    },
  };
}
