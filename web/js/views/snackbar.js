// The panel's snackbar: one short message at a time at the panel's foot, with an optional
// action ("Undo" after an archive). It stays while the pointer or the focus is on it.
import { byId } from '../dom.js';

const SHOW_MS = 8000;

export function createSnackbar() {
  const bar = byId('snackbar');
  const text = byId('snackbar-text');
  const action = byId('snackbar-action');
  let timer = null;
  let onAction = null;

  function hide() {
    clearTimeout(timer);
    bar.hidden = true;
    onAction = null;
  }
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(hide, SHOW_MS);
  };
  bar.addEventListener('mouseenter', () => clearTimeout(timer));
  bar.addEventListener('mouseleave', arm);
  bar.addEventListener('focusin', () => clearTimeout(timer));
  bar.addEventListener('focusout', (event) => {
    if (!bar.contains(event.relatedTarget)) arm();
  });
  action.addEventListener('click', () => {
    const act = onAction;
    hide();
    if (act) act();
  });

  return {
    /** `message`, and `undo()` for an "Undo" button (none without it). */
    show(message, undo = null) {
      text.textContent = message;
      onAction = undo;
      action.hidden = !undo;
      bar.hidden = false;
      arm();
    },
    hide,
  };
}
