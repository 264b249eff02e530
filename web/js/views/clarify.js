// The answer box for a clarification question (used in toasts and in "My requests").
import { el } from '../dom.js';

let counter = 0;

/** submit(answer) resolves when accepted, or throws an error whose message is shown. */
export function clarifyForm({ submit, label = 'Your answer' }) {
  counter += 1;
  const id = `clarify-${counter}`;
  const input = el('textarea', { id, name: 'answer', rows: '2', required: true, maxlength: '2000' });
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
    } catch (failure) {
      error.textContent = failure.message || 'Could not send the answer.';
      button.disabled = false;
      input.disabled = false;
    }
  });
  return form;
}
