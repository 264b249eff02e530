// The development login: act as any user id, a UUID or a name such as "alice" (the server's
// /dev/login decides what it accepts, says so when it refuses, and sets the cookie).
import { byId } from '../dom.js';

const REMEMBER = 'vividly.lastUserId';
// Why the form shows on a page's own address (router.js's route names): what signing in opens.
const REASONS = {
  video: 'Sign in to see your video',
  request: 'Sign in to see your request',
  preferences: 'Sign in to see your preferences',
};

function randomUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on a LAN address is not one.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** onSubmit(userId) resolves when logged in, or throws an error whose message is shown. */
export function createLogin({ onSubmit }) {
  const section = byId('login');
  const form = byId('login-form');
  const input = byId('login-user');
  const random = byId('login-random');
  const message = byId('login-message');
  const reason = byId('login-reason');
  const error = byId('login-error');
  const submit = form.querySelector('button[type="submit"]');

  random.addEventListener('click', () => {
    input.value = randomUuid();
    input.focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const userId = input.value.trim();
    error.textContent = '';
    if (!userId) {
      error.textContent = 'Enter a user id: a name such as alice, or a UUID.';
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(userId);
      localStorage.setItem(REMEMBER, userId);
    } catch (failure) {
      error.textContent = failure.message || 'Login failed.';
    } finally {
      submit.disabled = false;
    }
  });

  return {
    /** `text`: a message (why the session ended); `route`: the page the address names. */
    show(text = '', route = null) {
      const why = route && Object.hasOwn(REASONS, route.name) ? REASONS[route.name] : '';
      reason.textContent = why;
      reason.hidden = !why;
      message.textContent = text;
      message.hidden = !text;
      error.textContent = '';
      if (!input.value) input.value = localStorage.getItem(REMEMBER) || '';
      section.hidden = false;
      input.focus();
    },
    hide() {
      section.hidden = true;
    },
  };
}
