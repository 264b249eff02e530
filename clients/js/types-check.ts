// Type-checked by check-types.mjs (`make seed-app`), never run: the declarations compile under
// `strict` with `skipLibCheck: false`, and the hook's return value is the customer's contract.
import type {
  UseNotificationsReturn as Contract,
  useNotifications as contractHook,
} from 'seed-frontend/useNotifications.contract';
import {
  ApiError,
  DesktopNotifier,
  NotificationClient,
  NotificationList,
  type Notification,
} from '@vividly/notifications-client';
import { useNotifications } from '@vividly/notifications-client/react';
import type { NotificationCenterElement } from '@vividly/notifications-client/element';
import { TypeRegistry, clickAction, describe, kindOf } from '@vividly/notifications-client/types';

// The customer's NotificationCenter uses the hook's value as their contract types it.
const fromHook: Contract = useNotifications();
const hook: typeof contractHook = useNotifications;

const client = new NotificationClient({ getToken: () => 'token' });
const target: EventTarget = client;
client.addEventListener('notification', (event) => {
  const notification: Notification = event.detail;
  const leadsTo: string | undefined = notification.link; // the subject's page, the server's rule
  return leadsTo ?? notification.id;
});
client.addEventListener('status', (event) => event.detail.toUpperCase());
client.addEventListener('progress', (event) => event.detail.stage ?? event.detail.status);
client.retryNow();
const untyped: EventListener = () => {};
client.addEventListener('something-else', untyped);
client.removeEventListener('something-else', untyped);
const answer: Promise<unknown> = client.request('GET', '/content-requests');
answer.catch((error: unknown) => error instanceof ApiError && error.status);

const list = new NotificationList(client, () => {});
// Snooze, restore, the Archived view and the type filter.
const snoozed: Promise<Notification> = client.snooze(1, new Date(Date.now() + 3_600_000));
snoozed.then((n) => n.snoozed_until ?? null);
client.restore(1).then((n: Notification) => n.dismissed_at);
client.history({ archived: true, type: 'video_complete' }).then((page) => page.items);
list.snooze(1, '2030-01-01T10:00:00+01:00').then(() => list.restore(1));
list.setArchived(true).then(() => list.setType(null)).then(() => [list.archived, list.type]);
const fromHookMore = useNotifications();
fromHookMore.snooze(fromHookMore.notifications[0], new Date()).then(() => undefined);
fromHookMore.restore(fromHookMore.notifications[0]);
const hookLink: string | undefined = fromHookMore.notifications[0].link;
const desktop = new DesktopNotifier(client, { user: 'alice', onClick: (n) => n.id });
desktop.start();

const element: NotificationCenterElement = document.createElement('notification-center');
element.addEventListener('notification-click', (event) => event.detail.id);
element.show();

export { fromHook, hook, target, list };

// The email digest module.
import {
  DigestError,
  digestPreference,
  resendDigestConfirmation,
  setDigest,
  stopDigest,
  type DigestPreference,
} from '@vividly/notifications-client/digest';

async function digestUse(): Promise<string | null> {
  const before: DigestPreference = await digestPreference({ apiBase: 'https://notify.example' });
  if (!before.available) return null;
  try {
    const after = await setDigest({ email: 'a@example.com', period: 'weekly' });
    await resendDigestConfirmation({ getToken: async () => 'token' });
    await stopDigest();
    return after.confirmation_error ?? after.last_error;
  } catch (error) {
    if (error instanceof DigestError && error.unavailable) return error.detail;
    return error instanceof DigestError && error.retryAfter !== null ? String(error.retryAfter) : null;
  }
}
void digestUse;

// The type registry reads the client's types; describe takes it, a Map, or nothing.
const registry = new TypeRegistry(() => client.types());
const said: { heading: string; body: string } = describe({ type: 'any', payload: {} }, registry);
describe({ type: 'any', payload: {} }, new Map<string, never>());
const opens: 'watch' | 'answer' | 'request' | null = clickAction({ type: 'any', payload: {} });
const icon: string = kindOf('any').icon;
