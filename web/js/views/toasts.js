// Toasts for live notifications, in an aria-live region.
//
// - At most MAX_TOASTS: a new one evicts the oldest that holds nothing of the user's (typed
//   text, focus); one with typed text is never evicted, even past the limit.
// - Hidden while the notification panel is open (the panel lists the same notifications), so
//   they never cover it.
// - On narrow screens they sit under the content: the page reserves their height at its end
//   (`--toasts-height`), so whatever they cover can always be scrolled out from under them.
import { byId, el } from '../dom.js';
import { describe, kindOf } from '/client/types.js';
import { clarifyForm } from './clarify.js';

const MAX_TOASTS = 4;
const LINGER_MS = 15000;

/** Whether the toast holds something of the user's that closing it would lose. */
function holdsInput(toast) {
  if (toast.contains(document.activeElement)) return true;
  return [...toast.querySelectorAll('textarea, input')].some((box) => box.value.trim() !== '');
}

/**
 * `types`: the TypeRegistry (labels). actions: watch(n), answer(n, answer) -> request.
 */
export function createToasts(types, actions) {
  const region = byId('toasts');

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      const height = region.hidden ? 0 : region.offsetHeight;
      document.documentElement.style.setProperty('--toasts-height', `${height}px`);
    }).observe(region);
  }

  function close(toast) {
    clearTimeout(toast.timer);
    toast.remove();
  }

  function linger(toast) {
    // Paused while the pointer or the focus is inside, so nobody loses a toast mid-read.
    const arm = () => {
      clearTimeout(toast.timer);
      toast.timer = setTimeout(() => {
        if (!holdsInput(toast)) close(toast);
      }, LINGER_MS);
    };
    const pause = () => clearTimeout(toast.timer);
    toast.addEventListener('mouseenter', pause);
    toast.addEventListener('focusin', pause);
    toast.addEventListener('mouseleave', arm);
    toast.addEventListener('focusout', (event) => {
      if (!toast.contains(event.relatedTarget)) arm();
    });
    arm();
  }

  function add(toast, { sticky = false } = {}) {
    region.append(toast);
    let excess = region.children.length - MAX_TOASTS;
    for (const old of [...region.children]) {
      if (excess <= 0) break;
      if (old !== toast && !holdsInput(old)) {
        close(old);
        excess -= 1;
      }
    }
    if (!sticky) linger(toast);
    return toast;
  }

  function frame(kind, heading, ...content) {
    const toast = el('div', { className: `toast toast-${kind}`, role: 'group', 'aria-label': heading });
    const closeButton = el('button', {
      type: 'button',
      className: 'icon-button toast-close',
      'aria-label': 'Close',
      text: '×',
      on: { click: () => close(toast) },
    });
    toast.append(closeButton, el('p', { className: 'toast-heading', text: heading }), ...content);
    return toast;
  }

  return {
    /**
     * A live notification. A video gets "Watch now" and a question an answer box (the type
     * registry's `click`); any other type, a new one included, is a plain toast headed by its
     * registry label.
     */
    show(n) {
      const text = describe(n, types);
      const kind = kindOf(n.type);
      const body = el('p', { className: 'toast-body', text: text.body });
      if (kind.click === 'watch') {
        const watch = el('button', { type: 'button', className: 'primary small', text: 'Watch now' });
        const toast = frame(kind.tone, text.heading, body, el('div', { className: 'row' }, watch));
        toast.dataset.id = String(n.id);
        watch.addEventListener('click', () => {
          actions.watch(n);
          close(toast);
        });
        return add(toast);
      }
      if (kind.click === 'answer' && n.payload && n.payload.content_id) {
        const toast = frame(kind.tone, text.heading, body);
        toast.dataset.id = String(n.id);
        toast.dataset.contentId = n.payload.content_id;
        toast.append(
          clarifyForm({
            key: n.payload.content_id,
            submit: async (answer) => {
              await actions.answer(n, answer);
              delete toast.dataset.id; // a thank-you now, not the notification (read by answering)
              toast.replaceChildren(
                el('p', { className: 'toast-heading', text: 'Thanks!' }),
                el('p', { className: 'toast-body', text: "We're working on your video now." }),
              );
              linger(toast);
            },
          }),
        );
        return add(toast, { sticky: true });
      }
      const toast = frame(kind.tone, text.heading, body);
      toast.dataset.id = String(n.id);
      return add(toast);
    },
    /** Something the user did went wrong. */
    error(message) {
      return add(frame('error', 'Something went wrong', el('p', { className: 'toast-body', text: message })));
    },
    /** Close the question toasts of a request answered elsewhere (e.g. in "My requests"). */
    closeFor(contentId) {
      for (const toast of [...region.children]) {
        if (toast.dataset.contentId === contentId) close(toast);
      }
    },
    /** Close the toasts of notifications read meanwhile (here, in another tab or device). */
    closeRead(isRead) {
      for (const toast of [...region.children]) {
        if (toast.dataset.id && isRead(Number(toast.dataset.id)) && !holdsInput(toast)) close(toast);
      }
    },
    /** Hide them while the panel is open (they come back when it closes). */
    setCovered(covered) {
      region.hidden = covered;
    },
    clear() {
      for (const toast of [...region.children]) close(toast);
    },
  };
}
