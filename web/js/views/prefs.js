// Preferences: which notification types reach the app (a muted type creates no notification).
// One checkbox per type of the registry, with its label and description: a type added on the
// server appears here without a change to the page.
import * as api from '../api.js';
import { byId, el } from '../dom.js';

/** `types`: the TypeRegistry. */
export function createPreferences(types) {
  const dialog = byId('prefs');
  const list = byId('prefs-types');
  const error = byId('prefs-error');
  const saved = byId('prefs-saved');

  const boxes = () => [...list.querySelectorAll('input[type="checkbox"]')];

  function apply(inApp) {
    for (const box of boxes()) {
      if (typeof inApp[box.name] === 'boolean') box.checked = inApp[box.name];
    }
  }

  async function change(box) {
    error.textContent = '';
    saved.textContent = '';
    box.disabled = true;
    try {
      const result = await api.setPreferences({ [box.name]: box.checked });
      apply(result.in_app);
      saved.textContent = 'Saved.';
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
