// Wiring: the session, the package's client (stream, list, desktop notifications) and the
// views. The only module that knows all the others.
//
// Everything that talks to the service is the package served at /client/ (clients/js): one
// NotificationClient per session runs the stream (one per browser, shared by the tabs), its
// NotificationList is what the bell and the panel draw, and its DesktopNotifier shows system
// notifications while the page is in the background. The page adds its own views only.
//
// Where a notification leads is its `link` (the server's rule, service/live/subjects.py): a
// click anywhere (panel, toast, desktop notification, a push's button) goes there through the
// router, which shows `/videos/<id>` in the player and `/requests/<id>` on its own; the page
// never decides it from the type.
import { DesktopNotifier, NotificationClient, NotificationList } from '/client/index.js';
import { contentRequests } from './content.js';
import { byId, safeUrl } from './dom.js';
import { TypeRegistry, describe, kindOf } from '/client/types.js';
import { createAccountMenu } from './views/account-menu.js';
import { createDigestPrefs } from './views/digest.js';
import { createHeader } from './views/header.js';
import { createLogin } from './views/login.js';
import { createPanel } from './views/panel.js';
import { createPlayer } from './views/player.js';
import { createPreferences } from './views/prefs.js';
import { createPushToggle } from './views/push-toggle.js';
import { disablePush, syncPush } from '/client/push.js';
import { createRequests } from './views/requests.js';
import { createRouter, routeOf } from './router.js';
import { createSubjectView } from './views/subject.js';
import { refreshTimes } from './views/time.js';
import { createToasts } from './views/toasts.js';

const EXPIRED = 'Your session has ended. Please log in again.';
// REST calls that are not the list's (sign-in, content requests, preferences, the type
// registry). Never started, so it opens no stream.
const rest = new NotificationClient({ shareAcrossTabs: false });
const types = new TypeRegistry(() => rest.types());
const app = byId('app');
const header = createHeader({ onRetry: () => session?.client.retryNow() });
const router = createRouter((route) => show(route));
const player = createPlayer({
  onClose: () => router.current().name === 'video' && router.leave(),
});
const subjectView = createSubjectView({
  onBack: () => router.leave(),
  onTitle: (text) => header.setTitle(text),
  onSwitch: () => logOut({ keepAddress: true }),
});
let session = null; // {client, list, desktop, me} while logged in (`me`: /me's answer)
// A video about to be shown with its data in hand (a notification's payload, a request's row):
// it plays at once, without reading its request first. {id, item}
let inHand = null;
const toasted = new Set(); // notification ids already shown as a toast

/** A REST call; a 401 ends the session (the cookie expired or was cleared in another tab). */
async function call(method, path, body) {
  try {
    return await rest.request(method, path, body);
  } catch (error) {
    if (error.status === 401 && session) endSession(EXPIRED);
    throw error;
  }
}

const content = contentRequests(call);

function reportError(error) {
  // A 401 already sent us back to the login form; nothing more to say.
  if (error && error.status === 401) return;
  toasts.error(error && error.message ? error.message : String(error));
}

// --- notifications and their subjects ------------------------------------------------------

/** The list's current copy of a notification (its read state may have changed since). */
function current(n) {
  return (session && session.list.items.find((item) => item.id === n.id)) || n;
}

function markRead(n) {
  if (session && n && !current(n).read_at) session.list.markRead(n.id);
}

/** For the delivery analytics: the user acted on `n` (watch, answer, open its request). */
function opened(n) {
  if (session && n) session.client.reportOpened(n.id);
}

/** Go to the page of the app at `path`, with the video's data in hand when there is some. */
function go(path, item = null) {
  const route = routeOf(path);
  if (!route) return false;
  inHand = route.name === 'video' && item ? { id: route.id, item } : null;
  return router.go(path);
}

/** What clicking a notification does: it is read and opened, and its `link` shown. A link to
 * the home page (a type about nothing in particular) leaves the page as it is. */
function openSubject(n) {
  markRead(n);
  opened(n);
  if (n.link && n.link !== '/') go(n.link, n.payload);
}

function about(contentId) {
  if (!session) return [];
  return session.list.items.filter((n) => n.payload && n.payload.content_id === contentId);
}

function unreadAbout(contentId) {
  if (!session) return [];
  return session.list.items.filter((n) => !n.read_at && n.payload && n.payload.content_id === contentId);
}

const toasts = createToasts(types, {
  watch: openSubject,
  async answer(n, answer) {
    const request = await content.answer(n.payload.content_id, answer);
    requests.upsert(request);
    markRead(n);
    opened(n);
    return request;
  },
  async retry(n) {
    const request = await content.retry(n.payload.content_id);
    requests.upsert(request);
    markRead(n);
    opened(n);
    return request;
  },
});

const panel = createPanel(types, {
  open: openSubject,
  onToggle: (open) => toasts.setCovered(open),
  seen: (ids) => session && session.client.reportSeen(ids),
});

const requests = createRequests(content, {
  watch(request) {
    for (const n of unreadAbout(request.id)) markRead(n);
    for (const n of about(request.id)) if (kindOf(n.type).click === 'watch') opened(n);
    go(`/videos/${encodeURIComponent(request.id)}`, request);
  },
  answered(request) {
    toasts.closeFor(request.id);
    for (const n of unreadAbout(request.id)) if (kindOf(n.type).click === 'answer') markRead(n);
  },
  error: reportError,
});

function setMuted(inApp) {
  requests.setMuted(Object.values(inApp || {}).some((on) => on === false));
}

const preferences = createPreferences(types, {
  api: rest,
  desktop: () => session && session.desktop,
  onSaved: setMuted,
});

function onNotification(n) {
  if (toasted.has(n.id)) return;
  toasted.add(n.id);
  // A type added since the registry was read: read it again first, for the toast's label.
  types.ensure(n.type).then(() => {
    const latest = current(n);
    if (session && !latest.read_at && !latest.dismissed_at) {
      toasts.show(latest);
      session.client.reportSeen([latest.id]); // a toast on a visible page is seen
    }
  });
  if (n.payload && n.payload.content_id) requests.refresh(n.payload.content_id);
}

// --- pages: the address says what shows (router.js) -----------------------------------------

let turn = 0; // the latest route shown: an answer for an older one is dropped

/** Show `route`. Signed out, the login form stays: signing in shows the route then. */
async function show(route) {
  const mine = ++turn;
  if (!session) return;
  if (route.name !== 'video') player.close();
  if (route.name !== 'preferences') preferences.close();
  if (route.name === 'home' || route.name === 'preferences') {
    subjectView.home();
    requests.hide();
    if (route.name === 'preferences') openPreferences({ at: 'prefs-email' });
    return;
  }
  panel.close();
  if (!route.id) {
    requests.hide();
    subjectView.missing(null, session.me, route.name);
    return;
  }
  if (route.name === 'request') {
    subjectView.request();
    try {
      await requests.show(route.id, route.action);
    } catch (error) {
      if (mine === turn && session) subjectView.missing(error, session.me);
      return;
    }
    if (mine === turn) acknowledge(route.notification);
    return;
  }
  if (await showVideo(route.id, mine, route.notification)) acknowledge(route.notification);
}

/** A digest link's notification (`?n=`), its page now shown to its owner: read and opened
 * (the link itself changed nothing: open_routes.py). */
function acknowledge(id) {
  if (!session || !id) return;
  session.list.markRead(id);
  session.client.reportOpened(id);
  router.settle();
}

/** `/videos/<id>`: the home page with the request's video in the player; a request with no
 * video (failed, or still in the making) is shown on its own page instead. True when playing. */
async function showVideo(id, mine, notification = null) {
  subjectView.home();
  requests.hide();
  let item = inHand && inHand.id === id ? inHand.item : null;
  inHand = null;
  if (!item) {
    try {
      item = requests.get(id) || (await content.get(id));
    } catch (error) {
      if (mine === turn && session) subjectView.missing(error, session.me, 'video');
      return false;
    }
  }
  if (mine !== turn || !session) return false;
  if (!item.video_url) {
    const from = notification ? `?n=${notification}` : '';
    router.go(`/requests/${encodeURIComponent(id)}${from}`, { replace: true });
    return false;
  }
  player.open(item);
  subjectView.video(item);
  for (const n of unreadAbout(id)) if (kindOf(n.type).click === 'watch') markRead(n);
  return true;
}

// --- session -------------------------------------------------------------------------------

function startSession(me) {
  const client = new NotificationClient();
  const list = new NotificationList(client, () => {
    if (session?.list !== list) return;
    header.setCount(list.unreadCount);
    panel.render();
    const read = new Set(list.items.filter((n) => n.read_at).map((n) => n.id));
    toasts.closeRead((id) => read.has(id));
    if (list.error && list.error.status === 401) endSession(EXPIRED);
  });
  const desktop = new DesktopNotifier(client, {
    describe(n) {
      const text = describe(n, types);
      return { title: text.heading, body: text.body, icon: safeUrl(n.payload && n.payload.thumbnail_url) };
    },
    onClick: openSubject,
    user: me.user_id,
  });
  session = { client, list, desktop, me };
  const mine = () => session?.client === client;
  client.addEventListener('status', (event) => {
    if (!mine()) return;
    header.setStatus(event.detail);
    if (event.detail === 'auth_expired') endSession(EXPIRED);
  });
  client.addEventListener('notification', (event) => mine() && onNotification(event.detail));
  client.addEventListener('progress', (event) => mine() && requests.progress(event.detail));
  client.addEventListener('connected', (event) => {
    // Resumed: the list caught up from the stream; requests may have moved meanwhile.
    if (mine() && event.detail && event.detail.resumed) requests.load().catch(reportError);
  });

  login.hide();
  app.hidden = false;
  header.setUser(me);
  header.setStatus(client.status);
  panel.setList(list);
  desktop.start();
  list.attach(); // starts the client and loads the first page
  types.load().catch(reportError);
  requests.load().catch(reportError);
  rest.preferences().then((p) => setMuted(p.in_app), () => {});
  // A browser that already holds a push subscription (from a session that expired rather than
  // logged out) is stored for this user, so it receives their pushes and no one else's.
  syncPush().catch(() => {});
  show(router.current()); // the page the address names: signing in lands there
}

function endSession(message = '') {
  if (session) {
    const { client, list, desktop } = session;
    session = null;
    list.detach();
    desktop.stop();
    client.stop();
  }
  panel.setList(null);
  panel.close();
  player.close();
  preferences.close();
  toasts.clear();
  toasted.clear();
  requests.clear();
  subjectView.home(); // the address stays: signing in again shows it
  header.setUser(null);
  header.setCount(0);
  app.hidden = true;
  login.show(message, router.current());
}

const login = createLogin({
  async onSubmit(userId) {
    try {
      await call('POST', '/dev/login', { user_id: userId });
    } catch (error) {
      if (error.status === 404) throw new Error('Development login is turned off on this server.');
      throw error;
    }
    startSession(await call('GET', '/me'));
  },
});

createAccountMenu();
const pushToggle = createPushToggle({ onError: reportError });
const digestPrefs = createDigestPrefs();
/** The preferences dialog (the page `/preferences`), scrolled to the section `at` if given,
 * its legend focused (not the dialog's close button). */
function openPreferences({ at = null } = {}) {
  if (byId('prefs').open) return;
  preferences.open();
  pushToggle.refresh();
  digestPrefs.refresh();
  if (at) {
    byId(at).scrollIntoView({ block: 'start' });
    byId(at).querySelector('legend').focus({ preventScroll: true });
  }
}
byId('prefs-button').addEventListener('click', () => router.go('/preferences'));
// Closed (its button, Escape, signing out): the address leaves `/preferences`.
byId('prefs').addEventListener('close', () => {
  if (router.current().name === 'preferences') router.leave();
});

// A push clicked while a tab is open: the service worker focused this tab and asks it to open
// what was clicked (`url`: the page the worker would open, with `?action=` for a button). A page
// of the app is shown here (signed out: after signing in); else (a video elsewhere) the
// notification, when it is in the loaded list. The answer on the port tells the worker whether
// we did; if not it opens the link itself. The worker reports the click opened and read.
if (navigator.serviceWorker) {
  navigator.serviceWorker.addEventListener('message', (event) => {
    const data = event.data || {};
    if (data.type !== 'vividly-push-click') return;
    const [port] = event.ports || [];
    const notification = data.notification || {};
    const url = typeof data.url === 'string' ? data.url : notification.link;
    let handled = typeof url === 'string' && routeOf(url) !== null && go(url);
    if (!handled && session) {
      const n = session.list.items.find((item) => item.id === notification.id);
      if (n && n.link && n.link !== '/') handled = go(n.link, n.payload);
    }
    if (port) port.postMessage({ handled: Boolean(handled) });
  });
}
/** Log out. Whoever signs in next starts at home, not on this student's page, unless
 * `keepAddress` ("Sign in with another account": the page was meant for them). */
async function logOut({ keepAddress = false } = {}) {
  // Before the session ends: this browser must stop receiving this user's pushes (the next
  // person to log in here would otherwise see them).
  await disablePush().catch(() => {});
  try {
    await call('POST', '/dev/logout');
  } catch {
    // Without dev login there is nothing to clear server-side; forget the session anyway.
  }
  if (!keepAddress) router.reset(); // first: the sign-in form names no page then
  endSession();
  if (keepAddress) byId('login-user').select(); // the last name, replaced by typing another
}
byId('logout').addEventListener('click', () => logOut());

setInterval(() => refreshTimes(), 60000);

// Signed in or not is asked of GET /session (always a 200), so the login screen logs no 401.
async function boot() {
  try {
    const state = await call('GET', '/session');
    if (!state.signed_in) login.show('', router.current());
    else startSession(await call('GET', '/me'));
  } catch (error) {
    if (error.status === 401) login.show('', router.current());
    else login.show(`Cannot reach the server (${error.message}). Reload to try again.`);
  }
}

boot();
