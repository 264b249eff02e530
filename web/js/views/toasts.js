// Toasts for live notifications, in an aria-live region.
//
// - At most MAX_TOASTS: a new one evicts the oldest that holds nothing of the user's (typed
//   text, focus); one with typed text is never evicted, even past the limit. A question waiting
//   for an answer takes no place among them, is never evicted and never times out: it stays
//   until answered or closed.
// - Hidden while the notification panel is open (the panel lists the same notifications), so
//   they never cover it.
// - On wide screens they sit in a column beside the content. On a phone (PHONE) one compact
//   toast shows at a time: a waiting question first, else the newest, with the number of the
//   others ("+2"); closing or swiping it away shows the next. It sits at the bottom, or under
//   the header when the page's primary action (`[data-primary-action]`, the Ask button) is at
//   the bottom, so it never covers the bell or that button.
// - On narrow screens the page reserves their height at its end (`--toasts-height`), so
//   whatever they cover can always be scrolled out from under them.
import { byId, el } from '../dom.js';
import { describe, kindOf } from '/client/types.js';
import { clarifyForm } from './clarify.js';
import { swipeable } from './swipe.js';

const MAX_TOASTS = 4;
const LINGER_MS = 15000;
const PHONE = '(max-width: 40rem)';

/** Whether the toast holds something of the user's that closing it would lose. */
function holdsInput(toast) {
  if (toast.contains(document.activeElement)) return true;
  return [...toast.querySelectorAll('textarea, input')].some((box) => box.value.trim() !== '');
}

const waiting = (toast) => toast.dataset.waiting === 'true';

const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * `types`: the TypeRegistry (labels). actions: watch(n), answer(n, answer) -> request,
 * retry(n) -> request (a failed request tried again).
 */
export function createToasts(types, actions) {
  const region = byId('toasts');
  const phone = window.matchMedia(PHONE);
  const count = el('span', { className: 'toast-count' });

  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      const height = region.hidden ? 0 : region.offsetHeight;
      document.documentElement.style.setProperty('--toasts-height', `${height}px`);
    }).observe(region);
  }

  const toasts = () => [...region.children].filter((node) => node.classList.contains('toast'));

  /** The one toast a phone shows: the newest waiting question, else the newest. */
  function front() {
    const all = toasts();
    return all.filter(waiting).pop() || all.pop() || null;
  }

  /** On a phone: only the front toast, with the count of the others; elsewhere all of them. */
  function arrange() {
    const all = toasts();
    const shown = phone.matches ? front() : null;
    for (const toast of all) toast.classList.toggle('toast-behind', Boolean(shown) && toast !== shown);
    const others = shown ? all.length - 1 : 0;
    const more = others === 1 ? ' more notification' : ' more notifications';
    count.replaceChildren(`+${others}`, el('span', { className: 'visually-hidden', text: more }));
    if (shown && others > 0) shown.querySelector('.toast-heading').append(count);
    else count.remove();
    place();
  }

  /** On a phone: at the bottom unless that covers the primary action; then under the header. */
  function place() {
    region.classList.remove('toasts-top');
    if (!phone.matches || !region.children.length) return;
    const box = region.getBoundingClientRect();
    const covered = [...document.querySelectorAll('[data-primary-action]')].some((node) => {
      const rect = node.getBoundingClientRect();
      return rect.width > 0 && overlaps(rect, box);
    });
    region.classList.toggle('toasts-top', covered);
  }
  let placing = false;
  const placeSoon = () => {
    if (placing) return;
    placing = true;
    requestAnimationFrame(() => {
      placing = false;
      place();
    });
  };
  window.addEventListener('scroll', placeSoon, { passive: true });
  window.addEventListener('resize', placeSoon);
  phone.addEventListener('change', arrange);

  function close(toast) {
    clearTimeout(toast.timer);
    toast.remove();
    arrange();
  }

  function linger(toast) {
    // Paused while the pointer or the focus is inside, so nobody loses a toast mid-read.
    const arm = () => {
      clearTimeout(toast.timer);
      toast.timer = setTimeout(() => {
        if (!holdsInput(toast) && !waiting(toast)) close(toast);
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
    let excess = toasts().filter((old) => !waiting(old)).length - MAX_TOASTS;
    for (const old of toasts()) {
      if (excess <= 0) break;
      if (old !== toast && !holdsInput(old) && !waiting(old)) {
        clearTimeout(old.timer);
        old.remove();
        excess -= 1;
      }
    }
    if (!sticky) linger(toast);
    arrange();
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
    swipeable(toast, { left: () => close(toast), right: () => close(toast) });
    return toast;
  }

  /** Replace a toast's content by a short message that then times out. */
  function settle(toast, heading, body) {
    delete toast.dataset.id; // no longer the notification (answering or retrying read it)
    delete toast.dataset.waiting;
    const closeButton = toast.querySelector('.toast-close');
    toast.replaceChildren(
      closeButton,
      el('p', { className: 'toast-heading', text: heading }),
      el('p', { className: 'toast-body', text: body }),
    );
    toast.setAttribute('aria-label', heading);
    region.append(toast); // the newest now: the one a phone shows
    linger(toast);
    arrange();
  }

  function retryRow(n, toast) {
    const error = el('p', { className: 'error', role: 'alert' });
    const button = el('button', { type: 'button', className: 'primary small retry', text: 'Try again' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      error.textContent = '';
      try {
        await actions.retry(n);
        const title = n.payload && n.payload.title;
        settle(toast, 'Trying again', title ? `We're making “${title}” again.` : "We're making your video again.");
      } catch (failure) {
        error.textContent = failure.message || 'Could not try again.';
        button.disabled = false;
        button.focus();
      }
    });
    return el('div', { className: 'row' }, button, error);
  }

  return {
    /**
     * A live notification. A video gets "Watch now", a failure "Try again" and a question an
     * answer box (the type registry's `click` and `tone`); any other type, a new one included,
     * is a plain toast headed by its registry label.
     */
    show(n) {
      const text = describe(n, types);
      const kind = kindOf(n.type);
      const body = el('p', { className: 'toast-body', text: text.body });
      const contentId = n.payload && n.payload.content_id;
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
      if (kind.click === 'answer' && contentId) {
        const toast = frame(kind.tone, text.heading, body);
        toast.dataset.id = String(n.id);
        toast.dataset.contentId = contentId;
        toast.dataset.waiting = 'true';
        toast.append(
          clarifyForm({
            key: contentId,
            submit: async (answer) => {
              await actions.answer(n, answer);
              settle(toast, 'Thanks!', "We're working on your video now.");
            },
          }),
        );
        return add(toast, { sticky: true });
      }
      if (kind.tone === 'failed' && contentId) {
        const toast = frame(kind.tone, text.heading, body);
        toast.dataset.id = String(n.id);
        toast.dataset.contentId = contentId;
        toast.append(retryRow(n, toast));
        return add(toast);
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
      for (const toast of toasts()) {
        if (toast.dataset.contentId === contentId && waiting(toast)) close(toast);
      }
    },
    /** Close the toasts of notifications read meanwhile (here, in another tab or device). */
    closeRead(isRead) {
      for (const toast of toasts()) {
        if (toast.dataset.id && isRead(Number(toast.dataset.id)) && !holdsInput(toast)) close(toast);
      }
    },
    /** Hide them while the panel is open (they come back when it closes). */
    setCovered(covered) {
      region.hidden = covered;
      if (!covered) arrange();
    },
    clear() {
      for (const toast of toasts()) {
        clearTimeout(toast.timer);
        toast.remove();
      }
      arrange();
    },
  };
}
