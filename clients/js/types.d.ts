// @vividly/notifications-client/types: the notification types the front end knows by name
// (src/types.js), read by the service's page, <notification-center>, DesktopNotifier and the push
// service worker. Labels and descriptions are the server's (`NotificationClient.types()`).

import type { Notification, NotificationType } from './index.js';

/** What clicking a notification offers (a button's wording: Watch, Answer, its request); where
 * it leads is the notification's own `link`. */
export type ClickAction = 'watch' | 'answer' | 'request';

/** How the front end shows one type (any type it does not name gets the defaults). */
export interface TypeKind {
  /** A glyph for lists ('•' by default). */
  icon: string;
  /** A class-name word for colour: 'complete' | 'failed' | 'clarify' | 'info' (default). */
  tone: string;
  /** 'watch', 'answer' or 'request', or 'open' (default: its video if any, else its request). */
  click: 'watch' | 'answer' | 'request' | 'open';
  /** The payload key of its text; null: the first filled of TEXT_KEYS. */
  text: string | null;
  /** Its text when that key is empty; null: the type's description. */
  empty: string | null;
  /** A heading made from the payload (null: the label). */
  heading: ((payload: Notification['payload']) => string | null) | null;
}

/** Where a type's labels come from: a TypeRegistry, or any Map of the server's types. */
export interface TypeLookup {
  get(name: string): NotificationType | undefined;
}

type Describable = Pick<Notification, 'type' | 'payload'>;

/** The payload keys that hold a notification's text ('title', 'error_message', 'question'), in
 * the order a type without its own is read (the server's order too). */
export const TEXT_KEYS: readonly string[];
/** The payload keys of the copy a notification was made with (an A/B test's variant or its
 * type's default copy): its heading and body when filled, before anything else. */
export const COPY_KEYS: Readonly<{ heading: 'copy_heading'; body: 'copy_body' }>;
export function kindOf(name: string): TypeKind;
/** The type's label, else its name in words ("video_complete" → "video complete"). */
export function labelOf(name: string, registry?: TypeLookup | null): string;
/** The payload key that holds the notification's text, or null when it has none. */
export function bodyKey(notification: Describable): string | null;
/** Heading and body text of a notification, as the page and the element show it. */
export function describe(
  notification: Describable,
  registry?: TypeLookup | null,
): { heading: string; body: string };
/** What clicking it offers, or null when there is nothing to open (where to: its `link`). */
export function clickAction(notification: Describable): ClickAction | null;
/** The tag of its system notification (desktop and push alike): `vividly-<id>`. */
export function notificationTag(id: number | string): string;

/** The server's type registry, read with `read()` (e.g. `() => client.types()`); emits `change`. */
export class TypeRegistry extends EventTarget implements TypeLookup {
  constructor(read: () => Promise<NotificationType[]>);
  load(): Promise<void>;
  /** Resolves once `name` is known or known to be missing (read again at most once); never rejects. */
  ensure(name: string): Promise<void>;
  has(name: string): boolean;
  get(name: string): NotificationType | undefined;
  label(name: string): string;
  description(name: string): string;
  list(): NotificationType[];
}
