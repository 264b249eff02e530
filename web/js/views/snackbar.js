// The panel's snackbar: one short message at a time at the panel's foot, with an optional
// action ("Undo" after an archive). It is a status region (a screen reader says it), and it
// stays while the pointer is on it or the keyboard focus is anywhere in the panel (`scope`):
// after an archive by keyboard the focus is on the next row (panel.js), far from the bar in tab
// order, so its action also answers Ctrl+Z (⌘Z on a Mac) from anywhere in the panel, shown
// beside the button and said by `aria-keyshortcuts`. It closes SHOW_MS after the focus and the
// pointer have left.
import { byId } from '../dom.js';

const SHOW_MS = 8000;
const MAC = /Mac|iPhone|iPad/.test(navigator.platform || '');
const TEXT_FIELD = 'textarea, input:not([type=checkbox]):not([type=radio]), [contenteditable]';

export function createSnackbar(scope) {
  const bar = byId('snackbar');
  const text = byId('snackbar-text');
  const action = byId('snackbar-action');
  const keys = byId('snackbar-keys');
  keys.textContent = MAC ? '⌘Z' : 'Ctrl+Z';
  action.setAttribute('aria-keyshortcuts', MAC ? 'Meta+Z' : 'Control+Z');
  let timer = null;
  let onAction = null;
  let pointerIn = false;

  function hide() {
    clearTimeout(timer);
    bar.hidden = true;
    onAction = null;
  }
  const held = () => pointerIn || scope.contains(document.activeElement) || bar.contains(document.activeElement);
  const arm = () => {
    clearTimeout(timer);
    if (!bar.hidden && !held()) timer = setTimeout(hide, SHOW_MS);
  };
  bar.addEventListener('mouseenter', () => {
    pointerIn = true;
    clearTimeout(timer);
  });
  bar.addEventListener('mouseleave', () => {
    pointerIn = false;
    arm();
  });
  scope.addEventListener('focusin', () => clearTimeout(timer));
  scope.addEventListener('focusout', (event) => {
    if (!scope.contains(event.relatedTarget)) setTimeout(arm); // once the focus has landed
  });
  function act() {
    const undo = onAction;
    hide();
    if (undo) undo();
  }
  action.addEventListener('click', act);
  scope.addEventListener('keydown', (event) => {
    const undoKey = (MAC ? event.metaKey : event.ctrlKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'z';
    if (!undoKey || bar.hidden || !onAction) return;
    if (event.target instanceof Element && event.target.closest(TEXT_FIELD)) return; // the field's own undo
    event.preventDefault();
    act();
  });

  return {
    /** `message`, and `undo()` for an "Undo" button (none without it). */
    show(message, undo = null) {
      text.textContent = message;
      onAction = undo;
      action.hidden = !undo;
      keys.hidden = !undo;
      bar.hidden = false;
      arm();
    },
    hide,
  };
}
