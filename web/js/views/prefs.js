// Preferences: which notification types reach the app (a muted type creates no notification),
// and desktop notifications on this browser.
// One checkbox per type of the registry, with its label and description: a type added on the
// server appears here without a change to the page.
import { byId, el } from '../dom.js';

const DESKTOP_TEXT = {
  granted: 'Shown when this page is in the background.',
  default: 'Your browser will ask for permission.',
  denied: 'Your browser blocks notifications from this site: allow them in its site settings.',
  unsupported: 'This browser cannot show desktop notifications.',
};

/**
 * `types`: the TypeRegistry. `api`: {preferences(), setPreferences(inApp)} (the client).
 * `desktop()`: the session's DesktopNotifier. onSaved(inApp): after a change was saved.
 */
export function createPreferences(types, { api, desktop, onSaved }) {
  const dialog = byId('prefs');
  const list = byId('prefs-types');
  const error = byId('prefs-error');
  const saved = byId('prefs-saved');
  const desktopBox = byId('prefs-desktop');
  const desktopNote = byId('prefs-desktop-note');

  const boxes = () => [...list.querySelectorAll('input[type="checkbox"]')];

  function apply(inApp) {
    for (const box of boxes()) {
      if (typeof inApp[box.name] === 'boolean') box.checked = inApp[box.name];
    }
  }

  function showDesktop() {
    const notifier = desktop();
    const permission = notifier ? notifier.permission : 'unsupported';
    desktopBox.checked = Boolean(notifier && notifier.enabled);
    desktopBox.disabled = permission === 'unsupported' || permission === 'denied';
    desktopNote.textContent = DESKTOP_TEXT[permission] || '';
  }

  // A change is a click: the user gesture the browser's permission prompt needs.
  desktopBox.addEventListener('change', async () => {
    const notifier = desktop();
    if (!notifier) return;
    if (desktopBox.checked) await notifier.enable();
    else notifier.disable();
    showDesktop();
  });

  async function change(box) {
    error.textContent = '';
    saved.textContent = '';
    box.disabled = true;
    try {
      const result = await api.setPreferences({ [box.name]: box.checked });
      apply(result.in_app);
      saved.textContent = 'Saved.';
      onSaved(result.in_app);
    } catch (failure) {
      box.checked = !box.checked;
      error.textContent = failure.message;
    } finally {
      box.disabled = false;
    }
  }

  function row(type) {
    const box = el('input', { type: 'checkbox', name: type.name, disabled: true });
    box.addEventListener('change', () => change(box));
    return el(
      'label',
      { className: 'check pref' },
      box,
      el(
        'span',
        { className: 'pref-text' },
        el('span', { className: 'pref-label', text: type.label }),
        el('span', { className: 'pref-description muted', text: type.description }),
      ),
    );
  }

  byId('prefs-close').addEventListener('click', () => dialog.close());

  return {
    async open() {
      error.textContent = '';
      saved.textContent = '';
      for (const box of boxes()) box.disabled = true;
      showDesktop();
      dialog.showModal();
      try {
        // Read both again: a type may have been added since the page loaded.
        const [inApp] = await Promise.all([api.preferences().then((p) => p.in_app), types.load()]);
        list.replaceChildren(...types.list().map(row));
        apply(inApp);
        for (const box of boxes()) box.disabled = false;
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
