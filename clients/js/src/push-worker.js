// The push service worker: shows a pushed notification while no tab of the app is open, and
// opens it on click. A classic script (no modules), so another origin can `importScripts` it
// into its own service worker. Served as /sw.js only, after the type registry (types.js, made
// classic by service/push/worker_script.py), which it reads as `VividlyTypes`.
//
// - `push`: the payload is the service's small JSON (service/channels/push/message.py: id, type,
//   title, body, link, timestamp, lang, icon, badge, image, actions); it is shown with the
//   registry's tag (`vividly-<id>`), the same as the page's desktop notifications, so a repeat
//   (a retried push, or the page's own) replaces rather than adds one. The server wrote its
//   title (what happened) and body (service/notifications/text.py); a title cut to nothing to
//   fit the push shows the type's name in words. Its icon, badge, image, lang and buttons
//   (`actions`: at most the browser's `Notification.maxActions`) are passed on when they are
//   what they should be (absolute http(s) URLs, known actions), else left out.
// - `notificationclick`: the notification and each of its buttons (`event.action`) lead to its
//   link, the subject's page (service/live/subjects.py): "Watch now" (`watch`) to the video in
//   the app's player, "Try again" (`retry`) and "Answer" (`answer`) to the request's own page
//   with `?action=retry|answer` (when the link is a page of the service, `apiBase`), where the
//   page focuses that button or the answer box (it never acts by itself). Either way it closes
//   it and tells the API it was opened and read (so read state stays in step everywhere) with
//   the push's own action token (no cookie needed: it may have expired hours ago, or be blocked
//   for this worker); a token refused with 403 (expired: the OS kept the notification longer
//   than PUSH_TTL) falls back to the session cookie. Then: a tab already showing the page is
//   focused (for the notification itself); else an open tab of the app is focused and posted
//   `{type: 'vividly-push-click', notification, action, url}` (`url`: where the click leads)
//   with a MessagePort, and shows it in-app if it answers `{handled: true}` within `ACK_MS`;
//   otherwise (no tab, no answer) `url` opens in a new window.
// - `pushsubscriptionchange`: subscribes again and sends the new subscription to the API.
//
// Where the API is: this worker's own origin, or `self.VIVIDLY_PUSH = {apiBase: 'https://…'}`
// set before `importScripts` (the API must then accept the worker's credentials: CORS_ORIGINS).
/* eslint-env serviceworker */
(() => {
  const { labelOf, notificationTag } = VividlyTypes;
  const config = self.VIVIDLY_PUSH || {};
  const apiBase = String(config.apiBase || self.location.origin).replace(/\/+$/, '');
  const CLICK = 'vividly-push-click';
  const ACK_MS = 1000;
  // The known buttons, and the `?action=` each adds to a request's page (the control it focuses).
  const TARGETS = { watch: null, retry: 'retry', answer: 'answer' };
  const URL_FIELDS = ['icon', 'badge', 'image'];

  function webUrl(value) {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch {
      return null;
    }
  }

  // The push's own look: its images, language and known buttons, each only if well formed.
  function richOptions(message) {
    const options = {};
    if (!message) return options;
    for (const field of URL_FIELDS) {
      const url = typeof message[field] === 'string' && webUrl(message[field]);
      if (url) options[field] = url;
    }
    if (typeof message.lang === 'string' && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(message.lang)) {
      options.lang = message.lang;
    }
    if (Array.isArray(message.actions)) {
      const max = (self.Notification && self.Notification.maxActions) || 2;
      options.actions = message.actions
        .filter((a) => a && Object.hasOwn(TARGETS, a.action) && typeof a.title === 'string' && a.title)
        .slice(0, max)
        .map((a) => ({ action: a.action, title: a.title }));
    }
    return options;
  }

  function post(path, body, credentials = 'include') {
    return fetch(`${apiBase}/api/v1${path}`, {
      method: 'POST',
      credentials,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  // `what` is 'opened' or 'read'. The push's token first; refused (403: it expired, since the
  // OS may keep a notification past PUSH_TTL) or absent (a push from before action tokens): the
  // session cookie, if it still works.
  async function tell(message, what) {
    const withCookie = () => post(`/notifications/${message.id}/${what}`);
    if (typeof message.action !== 'string' || !/^[\w.-]+$/.test(message.action)) {
      return withCookie();
    }
    const answer = await post(`/push/actions/${message.action}/${what}`, null, 'omit');
    return answer.status === 403 ? withCookie() : answer;
  }

  function report(message) {
    if (!message) return [];
    return [tell(message, 'opened'), tell(message, 'read')];
  }

  // Posts the click to a page and resolves to whether it answered {handled: true} in time.
  function ask(tab, message, action, url) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => resolve(false), ACK_MS);
      channel.port1.onmessage = (event) => {
        clearTimeout(timer);
        resolve(Boolean(event.data && event.data.handled));
      };
      tab.postMessage({ type: CLICK, notification: message, action, url }, [channel.port2]);
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
    const named = message && typeof message.type === 'string' && message.type;
    const title = (message && message.title) || (named ? labelOf(named) : 'New notification');
    const options = {
      ...richOptions(message),
      body: (message && message.body) || '',
      tag: notificationTag(message ? message.id : 'unknown'),
      data: { message, link: (message && message.link) || self.location.origin + '/' },
    };
    const when = message && Date.parse(message.timestamp);
    if (when) options.timestamp = when;
    event.waitUntil(self.registration.showNotification(title, options));
  });

  // Refused without a click's user activation (e.g. too late after it): the tab still gets the
  // message.
  async function focus(client) {
    try {
      if ('focus' in client) await client.focus();
    } catch {
      // not allowed now
    }
  }

  // Where a click leads: the link, a button's `?action=` added when it is a page of the service.
  function destination(link, action) {
    let target;
    try {
      target = new URL(webUrl(link) || '/', self.location.href);
    } catch {
      target = new URL('/', self.location.href);
    }
    const focusOn = TARGETS[action];
    if (focusOn && target.origin === new URL(apiBase).origin) target.searchParams.set('action', focusOn);
    return target.href;
  }

  // `action` '' (the notification itself) or one of TARGETS. For a button a tab showing the
  // page is not enough: it must be asked to focus the button's control.
  async function focusOrOpen(url, message, action) {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const showing = !TARGETS[action] && windows.find((client) => client.url === url);
    if (showing) {
      await focus(showing);
      return;
    }
    const app = windows.find((client) => new URL(client.url).origin === self.location.origin);
    if (app && message) {
      await focus(app);
      if (await ask(app, message, action, url)) return;
    }
    if (self.clients.openWindow) await self.clients.openWindow(url);
  }

  self.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const { message, link } = event.notification.data || {};
    const action = Object.hasOwn(TARGETS, event.action) ? event.action : '';
    event.waitUntil(
      Promise.all([
        focusOrOpen(destination(link, action), message, action),
        Promise.allSettled(report(message)),
      ]),
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
