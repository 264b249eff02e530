// The header's account menu on a phone: "Menu" opens Preferences and Log out, so neither sits
// beside the bell as an unlabelled icon. On wider screens the CSS shows both buttons in the
// header and hides the "Menu" button; this module then has nothing to do.
//
// A disclosure: the button says whether it is open (aria-expanded); Escape closes it back to
// the button; a press outside or choosing an item closes it.
import { byId } from '../dom.js';

export function createAccountMenu() {
  const button = byId('account-button');
  const menu = byId('account-menu');
  const isOpen = () => menu.classList.contains('open');

  function setOpen(open, { refocus = false } = {}) {
    if (open === isOpen()) return;
    menu.classList.toggle('open', open);
    button.setAttribute('aria-expanded', String(open));
    if (open) menu.querySelector('button').focus();
    else if (refocus) button.focus();
  }

  button.addEventListener('click', () => setOpen(!isOpen()));
  menu.addEventListener('click', (event) => {
    if (event.target.closest('button')) setOpen(false);
  });
  menu.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen()) {
      event.stopPropagation();
      setOpen(false, { refocus: true });
    }
  });
  document.addEventListener(
    'pointerdown',
    (event) => {
      if (isOpen() && !button.parentElement.contains(event.target)) setOpen(false);
    },
    true,
  );
  return { close: () => setOpen(false) };
}
