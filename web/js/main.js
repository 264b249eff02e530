// Wiring: session, stream, store and views. The only module that knows all the others.
import * as api from './api.js';
import { byId } from './dom.js';
import { Store, isUnread } from './store.js';
import { NotificationStream } from './stream.js';
import { TypeRegistry } from './types.js';
import { createHeader } from './views/header.js';
import { createLogin } from './views/login.js';
import { createPanel } from './views/panel.js';
import { createPlayer } from './views/player.js';
import { createPreferences } from './views/prefs.js';
import { createRequests } from './views/requests.js';
import { refreshTimes } from './views/time.js';
import { createToasts } from './views/toasts.js';

const store = new Store();
const types = new TypeRegistry();
const app = byId('app');
const header = createHeader();
const player = createPlayer();
const preferences = createPreferences(types);
let stream = null;
let session = null; // {user_id, expires_at} while logged in
const toasted = new Set(); // notification ids already shown as a toast

function reportError(error) {
  // A 401 already sent us back to the login form; nothing more to say.
  if (error && error.status === 401) return;
  toasts.error(error && error.message ? error.message : String(error));
}

// --- notifications -----------------------------------------------------------------------

async function markRead(notification) {
  const item = store.get(notification.id);
  // Not in the list (e.g. reloading after a reset): tell the server anyway; the read_state
  // event brings the count.
  if (item ? !isUnread(item) : notification.read_at) return;
  store.markRead(notification.id);
  try {
    await api.markRead(notification.id);
  } catch (error) {
    reportError(error);
    loadFirstPage();
  }
}

function watch(item) {
  player.open(item);
}

let loading = null;
let again = false;

/**
 * Load (or refresh) the newest page of history. A call while a load runs asks for one more
 * afterwards: its caller needs a snapshot taken after the call (e.g. after the stream started).
 */
function loadFirstPage() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        const generation = store.generation;
        const page = await api.history({ unreadOnly: store.unreadOnly });
        // The list was dropped meanwhile (filter change, reset, logout): that page is stale.
        if (store.generation !== generation) again = true;
        else store.mergePage(page, { first: true });
      } catch (error) {
        reportError(error);
      }
    } while (again && session);
    loading = null;
  })();
  return loading;
}

const toasts = createToasts(types, {
  watch(n) {
    watch(n.payload);
    markRead(store.get(n.id) || n);
  },
  async answer(n, answer) {
    const request = await api.answerClarification(n.payload.content_id, answer);
    requests.upsert(request);
    markRead(store.get(n.id) || n);
    return request;
  },
});

createPanel(store, types, {
  read: markRead,
  watch(n) {
    watch(n.payload);
    markRead(n);
  },
  async archive(n) {
    store.archive(n.id);
    try {
      await api.archive(n.id);
    } catch (error) {
      reportError(error);
      await loadFirstPage();
    }
  },
  async markAll(upToId) {
    store.markAllRead(upToId);
    try {
      await api.readAll(upToId);
    } catch (error) {
      reportError(error);
      await loadFirstPage();
    }
  },
  async loadMore() {
    if (store.nextBefore === null) return;
    try {
      const generation = store.generation;
      const page = await api.history({ before: store.nextBefore, unreadOnly: store.unreadOnly });
      if (store.generation === generation) store.mergePage(page, { first: false });
    } catch (error) {
      reportError(error);
    }
  },
  filter(unreadOnly) {
    store.setUnreadOnly(unreadOnly);
    loadFirstPage();
  },
});

const requests = createRequests({
  watch(request) {
    watch(request);
    for (const n of store.unreadFor(request.id)) markRead(n);
  },
  answered(request) {
    toasts.closeFor(request.id);
    for (const n of store.unreadFor(request.id)) {
      if (n.type === 'clarification_needed') markRead(n);
    }
  },
  error: reportError,
});

store.addEventListener('change', () => header.setCount(store.unreadCount));

// --- stream --------------------------------------------------------------------------------

function openStream() {
  stream = new NotificationStream(api.STREAM_URL, {
    status: (state) => header.setStatus(state),
    connected({ resumed }) {
      // Fresh or resumed, history is re-read: it covers the moments before the stream
      // existed, and read-state changes missed while disconnected (those are not replayed).
      loadFirstPage();
      if (resumed) requests.load().catch(reportError);
    },
    notification(n) {
      store.addLive(n); // counted once, whether history or the stream brought it first
      // The stream only brings what happened since it started (or was missed while it was
      // down), so it is news even when a history answer raced ahead of it; unless already read.
      if (toasted.has(n.id)) return;
      toasted.add(n.id);
      // A type added since the registry was read: read it again first, for the toast's label.
      types.ensure(n.type).then(() => {
        const current = store.get(n.id);
        if (current && isUnread(current)) toasts.show(current);
      });
      if (n.payload && n.payload.content_id) requests.refresh(n.payload.content_id);
    },
    readState(event) {
      if (store.applyReadState(event)) loadFirstPage();
    },
    reset() {
      store.resetList();
      loadFirstPage();
    },
    authExpired() {
      endSession('Your session has ended. Please log in again.');
    },
    async failedBeforeConnect() {
      // EventSource does not say why; a 401 means the session is gone, anything else retries.
      try {
        await api.me();
      } catch (error) {
        if (error.status === 401) endSession('Your session has ended. Please log in again.');
      }
    },
  });
  stream.start();
}

// --- session -------------------------------------------------------------------------------

function startSession(me) {
  session = me;
  login.hide();
  app.hidden = false;
  header.setUser(me.user_id);
  store.clear();
  types.load().catch(reportError);
  openStream();
  loadFirstPage();
  requests.load().catch(reportError);
}

function endSession(message = '') {
  if (stream) stream.stop();
  stream = null;
  session = null;
  player.close();
  preferences.close();
  toasts.clear();
  toasted.clear();
  requests.clear();
  store.clear();
  header.setUser('');
  app.hidden = true;
  login.show(message);
}

const login = createLogin({
  async onSubmit(userId) {
    try {
      await api.devLogin(userId);
    } catch (error) {
      if (error.status === 404) throw new Error('Development login is turned off on this server.');
      throw error;
    }
    startSession(await api.me());
  },
});

api.setUnauthorizedHandler(() => {
  if (session) endSession('Your session has ended. Please log in again.');
});

byId('prefs-button').addEventListener('click', () => preferences.open());
byId('logout').addEventListener('click', async () => {
  try {
    await api.devLogout();
  } catch {
    // Without dev login there is nothing to clear server-side; forget the session anyway.
  }
  endSession();
});

setInterval(() => refreshTimes(), 60000);

async function boot() {
  try {
    startSession(await api.me());
  } catch (error) {
    if (error.status === 401) login.show();
    else login.show(`Cannot reach the server (${error.message}). Reload to try again.`);
  }
}

boot();
