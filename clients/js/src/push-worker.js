// The push service worker: shows a pushed notification while no tab of the app is open, and
// opens it on click. A classic script (no modules), so another origin can `importScripts` it
// into its own service worker.
//
// - `push`: the payload is the service's small JSON ({id, type, title, body, link, timestamp});
//   it is shown with the tag `vividly-<id>`, the same as the page's desktop notifications, so a
//   repeat (a retried push, or the page's own) replaces rather than adds one.
// - `notificationclick`: closes it, focuses an open tab of the app (and posts it
//   `{type: 'vividly-push-click', notification}`) or else opens the notification's link, and
//   tells the API it was opened and read (so read state stays in step everywhere).
// - `pushsubscriptionchange`: subscribes again and sends the new subscription to the API.
//
// Where the API is: this worker's own origin, or `self.VIVIDLY_PUSH = {apiBase: 'https://…'}`
// set before `importScripts` (the API must then accept the worker's credentials: CORS_ORIGINS).
/* eslint-env serviceworker */
(() => {
  const config = self.VIVIDLY_PUSH || {};
  const apiBase = String(config.apiBase || self.location.origin).replace(/\/+$/, '');
  const TAG = 'vividly-';
  const CLICK = 'vividly-push-click';

  function post(path, body) {
    return fetch(`${apiBase}/api/v1${path}`, {
      method: 'POST',
      credentials: 'include',
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  function parse(event) {
    try {
      const message = event.data ? event.data.json() : null;
      if (message && Number.isSafeInteger(message.id) && message.id > 0) return message;
    } catch {
      // not JSON: shown as a plain notice below
    }
    return null;
  }

  self.addEventListener('push', (event) => {
    const message = parse(event);
    // Browsers require every push to show something (userVisibleOnly).
    const title = (message && message.title) || 'New notification';
    const options = {
      body: (message && message.body) || '',
      tag: message ? `${TAG}${message.id}` : `${TAG}unknown`,
      data: { message, link: (message && message.link) || self.location.origin + '/' },
    };
    const when = message && Date.parse(message.timestamp);
    if (when) options.timestamp = when;
    event.waitUntil(self.registration.showNotification(title, options));
  });

  async function focusOrOpen(link, message) {
    const target = new URL(link, self.location.href);
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const tab =
      windows.find((client) => client.url === target.href) ||
      windows.find((client) => new URL(client.url).origin === target.origin) ||
      windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (tab) {
      tab.postMessage({ type: CLICK, notification: message });
      if ('focus' in tab) await tab.focus();
      return;
    }
    if (self.clients.openWindow) await self.clients.openWindow(target.href);
  }

  self.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const { message, link } = event.notification.data || {};
    const reports = message
      ? [post(`/notifications/${message.id}/opened`), post(`/notifications/${message.id}/read`)]
      : [];
    event.waitUntil(
      Promise.all([focusOrOpen(link || '/', message), Promise.allSettled(reports)]),
    );
  });

  self.addEventListener('pushsubscriptionchange', (event) => {
    const renew = async () => {
      const old = event.oldSubscription;
      const fresh =
        event.newSubscription ||
        (old && (await self.registration.pushManager.subscribe(old.options)));
      if (fresh) await post('/push/subscriptions', fresh.toJSON());
    };
    event.waitUntil(renew().catch(() => {}));
  });
})();
