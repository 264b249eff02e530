// "Ask a question" and "My requests": the student's content requests and their status, and one
// request on its own (`show`: its page, /requests/<id>, where the other rows are hidden).
import { byId, el, placeChildren } from '../dom.js';
import { duration } from '/client/time.js';
import { requestStatus, requestStep } from '../format.js';
import { clarifyForm } from './clarify.js';
import { timeEl } from './time.js';

// Only final statuses notify; pending -> processing does not, so rows still in flight are
// re-read now and then while the page is visible. A muted type creates no notification, so
// with any type muted the end of a request is heard only by asking: more often then.
const POLL_MS = 10000;
const POLL_MUTED_MS = 2000;
const POLL_MAX = 10;
// An ask that got no answer (status 0: offline, the server restarting): the box keeps the text.
const UNREACHABLE = 'Could not reach the server. Your question is kept; try again in a moment.';
// What a request's page focuses: the control `?action=` names, else the request's own action.
const TARGETS = { retry: 'button.retry', answer: 'textarea' };
const ACTION = 'textarea, button.retry, button.primary';

/**
 * `api`: the content-request calls (content.js). actions: watch(request), answered(request),
 * error(message).
 */
export function createRequests(api, actions) {
  const form = byId('ask-form');
  const question = byId('ask-question');
  const askError = byId('ask-error');
  const submit = form.querySelector('button[type="submit"]');
  const list = byId('requests-list');
  const empty = byId('requests-empty');
  const more = byId('requests-more');
  const requests = new Map(); // id -> request
  const rows = new Map(); // id -> {node, key}
  let cursor = null;
  let available = true;
  let loaded = false;
  let poller = null;
  let pollMs = POLL_MS;
  let focused = null; // the id of the request shown on its own, else null

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = question.value.trim();
    askError.textContent = '';
    if (!text) {
      askError.textContent = 'Please write a question first.';
      return;
    }
    submit.disabled = true;
    try {
      upsert(await api.create(text));
      // Keep whatever was typed while the request was on its way.
      if (question.value.trim() === text) question.value = '';
    } catch (failure) {
      askError.textContent = failure.status === 0 ? UNREACHABLE : failure.message;
    } finally {
      submit.disabled = false;
    }
  });

  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await loadPage(cursor);
    } catch (failure) {
      actions.error(failure.message);
    } finally {
      more.disabled = false;
    }
  });

  function body(request) {
    const parts = [];
    const status = requestStatus(request.status);
    const pill = el(
      'span',
      { className: `status status-${status.tone}` },
      status.inFlight ? el('span', { className: 'spinner', 'aria-hidden': 'true' }) : null,
      status.label,
    );
    parts.push(el('div', { className: 'request-head' }, pill, timeEl(request.created_at)));
    parts.push(el('p', { className: 'request-question', text: request.question || request.title || 'Your question' }));
    const step = request.status === 'processing' ? requestStep(request.stage) : null;
    if (step) parts.push(progress(request.id, step));
    if (status.shows === 'video') {
      const info = [request.title, request.duration_seconds != null ? duration(request.duration_seconds) : null]
        .filter(Boolean)
        .join(' · ');
      if (info) parts.push(el('p', { className: 'request-title', text: info }));
      if (request.video_url) {
        parts.push(
          el('button', { type: 'button', className: 'primary small', text: 'Watch', on: { click: () => actions.watch(request) } }),
        );
      }
    } else if (status.shows === 'error') {
      parts.push(el('p', { className: 'request-error', text: request.error_message || 'Something went wrong.' }));
      parts.push(retryButton(request));
    } else if (status.shows === 'question') {
      parts.push(el('p', { className: 'request-clarification', text: request.clarification_question || 'Please tell us more.' }));
      parts.push(
        clarifyForm({
          key: request.id,
          submit: async (answer) => {
            const updated = await api.answer(request.id, answer);
            upsert(updated);
            actions.answered(updated);
          },
        }),
      );
    }
    if (request.clarification_answer && status.shows !== 'question') {
      parts.push(el('p', { className: 'request-answer', text: `You added: ${request.clarification_answer}` }));
    }
    return parts;
  }

  // The step in words, and as a bar named by them (a native <progress>: a progressbar).
  function progress(id, { step, of, label }) {
    const words = el('span', { className: 'request-step', id: `request-step-${id}`, text: `Step ${step} of ${of}: ${label}` });
    const bar = el('progress', {
      className: 'request-progress-bar', max: String(of), value: String(step), 'aria-labelledby': words.id,
    });
    return el('div', { className: 'request-progress' }, bar, words);
  }

  function retryButton(request) {
    const error = el('p', { className: 'error', role: 'alert' });
    const button = el('button', { type: 'button', className: 'primary small retry', text: 'Try again' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      error.textContent = '';
      try {
        upsert(await api.retry(request.id));
      } catch (failure) {
        error.textContent = failure.message || 'Could not try again.';
        button.disabled = false;
        if (failure.status === 409 || failure.status === 404) refresh(request.id);
      }
    });
    return el('div', { className: 'row' }, button, error);
  }

  function render() {
    const ordered = [...requests.values()].sort(
      (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : -1),
    );
    const nodes = ordered.map((request) => {
      // Rebuild a row only when the request changed, so a half-typed answer survives.
      const key = `${request.status}|${request.updated_at}|${request.stage}`;
      let row = rows.get(request.id);
      if (!row) {
        row = { node: el('li', { className: 'request', tabindex: '-1', dataset: { id: request.id } }), key: null };
        rows.set(request.id, row);
      }
      if (row.key !== key) {
        row.key = key;
        row.node.dataset.status = request.status;
        row.node.dataset.stage = request.stage || '';
        row.node.replaceChildren(...body(request));
      }
      row.node.toggleAttribute('data-focused', request.id === focused);
      return row.node;
    });
    placeChildren(list, nodes);
    list.toggleAttribute('data-focus', focused !== null);
    for (const id of rows.keys()) if (!requests.has(id)) rows.delete(id); // no detached rows kept
    empty.hidden = !loaded || ordered.length > 0 || focused !== null;
    empty.textContent = available ? 'No requests yet. Ask something above!' : 'Requests are not available on this server yet.';
    more.hidden = cursor === null || focused !== null;
  }

  function upsert(request) {
    requests.set(request.id, request);
    render();
  }

  async function loadPage(from) {
    const page = await api.list(from);
    for (const request of page.items) requests.set(request.id, request);
    cursor = page.next_cursor ?? null;
    loaded = true;
    render();
    // The request shown on its own stays, on a page not loaded (again) too.
    if (focused !== null && !requests.has(focused)) await refresh(focused);
  }

  async function refresh(id) {
    try {
      upsert(await api.get(id));
    } catch (failure) {
      if (failure.status === 404 && requests.delete(id)) render();
    }
  }

  async function poll() {
    if (document.visibilityState !== 'visible') return;
    const inFlight = [...requests.values()].filter((r) => requestStatus(r.status).inFlight).slice(0, POLL_MAX);
    await Promise.all(inFlight.map((r) => refresh(r.id)));
  }

  return {
    async load() {
      requests.clear();
      cursor = null;
      try {
        await loadPage(null);
        available = true;
      } catch (failure) {
        if (failure.status !== 404) throw failure;
        available = false;
        loaded = true;
        render();
      }
      clearInterval(poller);
      poller = setInterval(poll, pollMs);
    },
    /** Whether some notification type is muted (then rows in flight are re-read more often). */
    setMuted(muted) {
      const wanted = muted ? POLL_MUTED_MS : POLL_MS;
      if (wanted === pollMs) return;
      pollMs = wanted;
      if (poller !== null) {
        clearInterval(poller);
        poller = setInterval(poll, pollMs);
      }
    },
    /**
     * Show request `id` on its own (its page) and focus what it needs: the control `action`
     * names ('retry': Try again, 'answer': the answer box) when it has it, else its own action
     * (an answer, a retry, Watch). Never acts by itself. Resolves to the request; rejects as the
     * API does (404: not this student's), with nothing shown.
     */
    async show(id, action = null) {
      focused = id;
      let request = requests.get(id);
      if (request) {
        render();
        refresh(id); // it may have moved on meanwhile
      } else {
        try {
          request = await api.get(id); // on a page not loaded yet
        } catch (failure) {
          if (focused === id) focused = null;
          render();
          throw failure;
        }
        if (focused !== id) return request; // left meanwhile
        upsert(request);
      }
      const row = rows.get(id);
      if (focused !== id || !row || !row.node.isConnected) return request;
      row.node.scrollIntoView({ block: 'center' });
      row.node.classList.remove('flash');
      void row.node.offsetWidth; // restart the highlight
      row.node.classList.add('flash');
      const target = (TARGETS[action] && row.node.querySelector(TARGETS[action])) || row.node.querySelector(ACTION);
      (target || row.node).focus({ preventScroll: true });
      return request;
    },
    /** Back to every request; the one shown alone keeps the focus, in its place in the list. */
    hide() {
      if (focused === null) return;
      const row = rows.get(focused);
      const hadFocus = row && row.node.contains(document.activeElement);
      focused = null;
      render();
      if (row && row.node.isConnected) {
        row.node.scrollIntoView({ block: 'center' });
        if (!hadFocus) row.node.focus({ preventScroll: true });
      }
    },
    /** The request of this id, if loaded. */
    get: (id) => requests.get(id),
    /** A notification about this request arrived: read it again. */
    refresh,
    /** The stream's `progress`: a request of this page entered a stage (or went back to pending). */
    progress({ content_id: id, status, stage }) {
      const request = requests.get(id);
      if (!request || !requestStatus(request.status).inFlight) return; // a final status wins
      requests.set(id, { ...request, status, stage });
      render();
    },
    upsert,
    clear() {
      clearInterval(poller);
      poller = null;
      focused = null;
      requests.clear();
      cursor = null;
      loaded = false;
      askError.textContent = '';
      render();
    },
  };
}
