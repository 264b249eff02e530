// Web Push in the page: subscribe this browser so notifications reach it while no tab is open.
//
// - `pushSupported()`: service workers, the Push API and notifications are all there.
// - `enablePush()`: from a user gesture (a click). Registers the service worker, asks for
//   notification permission, subscribes with the server's VAPID key and stores the subscription
//   with the API. Resolves to the state (below); rejects with the API's or browser's reason.
// - `disablePush()`: removes the subscription from the API and the browser (the browser's even
//   when the API call fails, e.g. the session has expired: its push service then answers 410 and
//   the server forgets it). Call it when the user logs out, before the session ends: otherwise
//   the next person to log in on this browser would receive the first user's pushes.
// - `syncPush()`: after login (and on each page load with a session): when this browser already
//   holds a subscription, stores it for the signed-in user (moving it from whoever had it).
//   Idempotent.
// - `pushState()`: 'unsupported' | 'off' (the server has no VAPID keys) | 'denied' | 'enabled' |
//   'disabled'. 'enabled' only when the server confirms this browser's subscription is the
//   signed-in user's.
// Options: `apiBase` (default: this origin), `workerUrl` ('/sw.js'), `scope` ('/'), `fetch`,
// `getToken` (the calls go through http.js).

import { detailOf, send } from './http.js';

export function pushSupported() {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof PushManager === 'function' &&
    typeof Notification === 'function'
  );
}

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function call(options, method, path, body) {
  const { response, json } = await send(options, method, path, body);
  if (!response.ok) {
    const error = new Error(detailOf(json, response.status));
    error.status = response.status;
    throw error;
  }
  return json;
}

async function registration(options) {
  const scope = options.scope || '/';
  const found = await navigator.serviceWorker.getRegistration(scope);
  if (found) return found;
  await navigator.serviceWorker.register(options.workerUrl || '/sw.js', { scope });
  return navigator.serviceWorker.ready;
}

// The server's key, or null when it does not push (`available: false`, a 200: a page asks on
// every load and must not log an error for it; a server before `available` answered 404).
async function serverKey(options) {
  try {
    const answer = await call(options, 'GET', '/push/public-key');
    return answer.available === false ? null : answer.public_key;
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

export async function pushState(options = {}) {
  if (!pushSupported()) return 'unsupported';
  // A server that does not push is the answer whatever the browser allows.
  if (!(await serverKey(options))) return 'off';
  if (Notification.permission === 'denied') return 'denied';
  const subscription = await browserSubscription(options);
  if (!subscription || Notification.permission !== 'granted') return 'disabled';
  const query = `?endpoint=${encodeURIComponent(subscription.endpoint)}`;
  const state = await call(options, 'GET', `/push/subscription${query}`);
  return state.subscribed ? 'enabled' : 'disabled';
}

async function browserSubscription(options) {
  const found = await navigator.serviceWorker.getRegistration(options.scope || '/');
  return found ? found.pushManager.getSubscription() : null;
}

export async function syncPush(options = {}) {
  if (!pushSupported() || Notification.permission !== 'granted') return pushState(options);
  const subscription = await browserSubscription(options);
  if (subscription && (await serverKey(options))) {
    await call(options, 'POST', '/push/subscriptions', subscription.toJSON());
  }
  return pushState(options);
}

export async function enablePush(options = {}) {
  if (!pushSupported()) return 'unsupported';
  const key = await serverKey(options);
  if (!key) return 'off';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'denied' : 'disabled';
  const worker = await registration(options);
  let subscription = await worker.pushManager.getSubscription();
  const wanted = keyBytes(key);
  const current = subscription && subscription.options.applicationServerKey;
  if (subscription && current && !sameBytes(new Uint8Array(current), wanted)) {
    await subscription.unsubscribe(); // the server's key changed: the old one cannot be used
    subscription = null;
  }
  if (!subscription) {
    subscription = await worker.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: wanted,
    });
  }
  await call(options, 'POST', '/push/subscriptions', subscription.toJSON());
  return 'enabled';
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export async function disablePush(options = {}) {
  if (!pushSupported()) return 'unsupported';
  const subscription = await browserSubscription(options);
  if (subscription) {
    try {
      await call(options, 'POST', '/push/unsubscribe', { endpoint: subscription.endpoint });
    } finally {
      await subscription.unsubscribe();
    }
  }
  return 'disabled';
}
