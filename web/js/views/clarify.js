// The answer box for a clarification question (used in toasts and in "My requests").
//
// Typed text is never lost: every box for the same request shares one draft, kept until the
// answer is accepted, so closing (or evicting) a toast leaves the text in the request's row,
// and a row rebuilt by a status change starts from it.
import { el } from '../dom.js';

let counter = 0;
const drafts = new Map(); // request id -> text typed so far
const boxes = new Map(); // request id -> Set of its <textarea>s

/** The text typed for this request and not yet sent ('' when none). */
export function draftOf(key) {
  return drafts.get(key) || '';
}

function share(key, input) {
  if (!boxes.has(key)) boxes.set(key, new Set());
  const peers = boxes.get(key);
  peers.add(input);
  input.value = draftOf(key);
  input.addEventListener('input', () => {
    if (input.value) drafts.set(key, input.value);
    else drafts.delete(key);
    for (const other of [...peers]) {
      if (!other.isConnected && other !== input) peers.delete(other);
      else if (other !== input) other.value = input.value;
    }
  });
}

/**
 * `key`: the request's id (boxes with one key share a draft). submit(answer) resolves when
 * accepted, or throws an error whose message is shown.
 */
export function clarifyForm({ key, submit, label = 'Your answer' }) {
  counter += 1;
  const id = `clarify-${counter}`;
  const input = el('textarea', { id, name: 'answer', rows: '2', required: true, maxlength: '2000' });
  if (key) share(key, input);
  const button = el('button', { type: 'submit', className: 'primary small', text: 'Send answer' });
  const error = el('p', { className: 'error', role: 'alert' });
  const form = el(
    'form',
    { className: 'clarify' },
    el('label', { for: id, text: label }),
    input,
    el('div', { className: 'row' }, button, error),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answer = input.value.trim();
    if (!answer) {
      error.textContent = 'Please write an answer first.';
      return;
    }
    error.textContent = '';
    button.disabled = true;
    input.disabled = true;
    try {
      await submit(answer);
      drafts.delete(key);
      boxes.delete(key);
    } catch (failure) {
      error.textContent = failure.message || 'Could not send the answer.';
      button.disabled = false;
      input.disabled = false;
    }
  });
  return form;
}
