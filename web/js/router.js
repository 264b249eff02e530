// The app's pages by path: `/` (home), `/videos/<id>` (that request's video in the player),
// `/requests/<id>` (that request on its own, `?action=retry|answer` naming the control to
// focus, `?n=<id>` the notification a digest link came from) and `/preferences` (home with the
// notification preferences open: the digest's link). The server serves index.html at each (service/live/subjects.py says which a
// notification leads to, as its `link`); this module only reads and changes the address.
//
// `go(path)` pushes an entry and `leave()` returns to `/`: back through the entry `go` pushed
// (so Back after leaving does not reopen what was left), or by replacing the address when the
// page was opened on it (a link from an email or a push). Back and Forward (`popstate`) and
// every change made here call `onChange(route)` once.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGES = { videos: 'video', requests: 'request' };
const ACTIONS = new Set(['retry', 'answer']);
const PUSHED = 'vividly.pushed'; // marks the history entries `go` made

/**
 * What an address (a path with its query, or a URL of this origin) shows: `{name: 'home'}`,
 * `{name: 'video'|'request', id, action}` (`id` null when it is not a UUID: nobody's request),
 * or null for an address that is not a page of the app.
 */
export function routeOf(address) {
  let url;
  try {
    url = new URL(address, window.location.origin);
  } catch {
    return null;
  }
  if (url.origin !== window.location.origin) return null;
  if (url.pathname === '/') return { name: 'home' };
  if (url.pathname === '/preferences') return { name: 'preferences' };
  const match = /^\/(videos|requests)\/([^/]+)\/?$/.exec(url.pathname);
  if (!match) return null;
  let id = null;
  try {
    id = decodeURIComponent(match[2]);
  } catch {
    // a broken escape: no id
  }
  const action = url.searchParams.get('action');
  const notification = Number(url.searchParams.get('n'));
  return {
    name: PAGES[match[1]],
    id: id && UUID.test(id) ? id.toLowerCase() : null,
    action: ACTIONS.has(action) ? action : null,
    // The notification a digest link came from (service/channels/email/open_routes.py): the
    // page marks it read and opened once shown to its owner.
    notification: Number.isSafeInteger(notification) && notification > 0 ? notification : null,
  };
}

const here = () => `${window.location.pathname}${window.location.search}`;

/** onChange(route): the address changed (by `go`, `leave`, Back or Forward). */
export function createRouter(onChange) {
  const changed = () => onChange(routeOf(here()) || { name: 'home' });
  window.addEventListener('popstate', changed);

  return {
    /** The page the address shows now. */
    current: () => routeOf(here()) || { name: 'home' },
    /** Show `address` (a path of the app, or a URL of this origin); false when it is not one. */
    go(address, { replace = false } = {}) {
      const route = routeOf(address);
      if (!route) return false;
      const url = new URL(address, window.location.origin);
      const path = `${url.pathname}${url.search}`;
      if (path !== here()) {
        if (replace) window.history.replaceState(window.history.state, '', path);
        else window.history.pushState({ [PUSHED]: true }, '', path);
      }
      changed();
      return true;
    },
    /** Back to the whole app (`/`). */
    leave() {
      if (here() === '/') return;
      if (window.history.state && window.history.state[PUSHED]) window.history.back();
      else {
        window.history.replaceState(null, '', '/');
        changed();
      }
    },
    /** The address without its `n=` (done with), showing nothing anew. */
    settle() {
      const url = new URL(window.location.href);
      if (!url.searchParams.has('n')) return;
      url.searchParams.delete('n');
      window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}`);
    },
    /** The address becomes `/` without showing anything (logging out). */
    reset() {
      if (here() !== '/') window.history.replaceState(null, '', '/');
    },
  };
}
