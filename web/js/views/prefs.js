// Preferences: which notification types reach the app (a muted type creates no notification).
import * as api from '../api.js';
import { byId } from '../dom.js';

export function createPreferences() {
  const dialog = byId('prefs');
  const form = byId('prefs-form');
  const error = byId('prefs-error');
  const saved = byId('prefs-saved');
  const boxes = [...form.querySelectorAll('input[type="checkbox"]')];

  function apply(inApp) {
    for (const box of boxes) {
      if (typeof inApp[box.name] === 'boolean') box.checked = inApp[box.name];
    }
  }

  for (const box of boxes) {
    box.addEventListener('change', async () => {
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
    });
  }
  byId('prefs-close').addEventListener('click', () => dialog.close());

  return {
    async open() {
      error.textContent = '';
      saved.textContent = '';
      for (const box of boxes) box.disabled = true;
      dialog.showModal();
      try {
        apply((await api.preferences()).in_app);
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        for (const box of boxes) box.disabled = false;
      }
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
