// useNotifications for React (React 18+ is a peer dependency). Its return value satisfies the
// customer's contract (`useNotifications.contract.ts`) and adds what the contract lacks.
import type { ReactElement, ReactNode } from 'react';
import type {
  ClientOptions,
  ConnectionStatus,
  Notification,
  NotificationClient,
} from './index';

/** The notification types registered today (`notification_types`). */
export type KnownNotificationType = 'video_complete' | 'video_failed' | 'clarification_needed';

/**
 * A notification as the hook lists it: the server's object (history item or stream message).
 * Its `type` is narrowed to the types registered today, so that the hook's return value is
 * assignable to the customer's contract, whose union names exactly these (and `connected`,
 * never a notification here). A type registered later reaches the list too: add it here.
 */
export type HookNotification = Omit<Notification, 'type'> & { type: KnownNotificationType };

export interface UseNotificationsReturn {
  // -- the customer's contract --
  /**
   * From the server's history (newest first), kept live by the stream; archived ones leave.
   * The server's objects (with `id`, `read_at`, ...), replaced, never mutated, when they change.
   */
  notifications: HookNotification[];
  /** `status === 'connected'` (in this tab or in the tab that holds the shared stream). */
  isConnected: boolean;
  /** Unread, non-archived notifications on the server, not only those loaded. */
  unreadCount: number;
  /**
   * Marks it read on the server (every tab and device sees it), and reports it seen. Needs the
   * object's `id`. `markAllAsRead` and `clearAll` report the listed ones seen.
   */
  markAsRead: (notification: { id?: number } & object) => void;
  /** Marks every notification up to the newest one on screen read, on the server. */
  markAllAsRead: () => void;
  /** Archives every notification up to the newest one on screen, on the server. */
  clearAll: () => void;
  // -- beyond the contract --
  status: ConnectionStatus;
  /**
   * The last failed call (an `ApiError`) or stream problem (`unavailable`, `too_many_places`,
   * `auth_expired`: an Error whose `status` is that), for display; null when fine. A stream
   * problem clears when the stream connects again, a failed call with the next one that works.
   */
  error: Error | null;
  /** False until the first page of history has arrived. */
  loaded: boolean;
  hasMore: boolean;
  /** Loads the next older page; never rejects (a failure lands in `error`). */
  loadMore: () => Promise<void>;
  markAsUnread: (notification: { id: number }) => void;
  /** Archives it on the server: it leaves the list (and every tab's and device's). */
  archive: (notification: { id: number }) => void;
  /**
   * The Undo of `archive` (and of `snooze`): back in the list at once, read or unread as it
   * was, on every tab and device. Pass the object the list held (e.g. kept by an Undo toast).
   * Resolves when the server answered; never rejects (a refusal lands in `error`).
   */
  restore: (notification: { id: number }) => Promise<void>;
  /**
   * Leaves the list now (every tab and device) and comes back as a new notification (a new
   * `id`, unread, live) at `until`: a Date, or an RFC 3339 string with an offset, in the
   * future and at most 30 days ahead (else a 422 in `error`, and it stays). Resolves when the
   * server answered; never rejects.
   */
  snooze: (notification: { id: number }, until: Date | string) => Promise<void>;
  /**
   * Report these (default: every listed one) as on screen now, for the delivery analytics; call
   * it while your list is visible. Batched; only while the page is visible; each once.
   */
  reportSeen: (notifications?: ReadonlyArray<{ id?: number }>) => void;
  /**
   * Report that the user acted on it (Watch now, an answer). A page at `/video/{content_id}`
   * (where the customer's Watch Now goes) reports the listed notification of that video itself.
   */
  reportOpened: (notification: { id?: number } & object) => void;
  client: NotificationClient;
}

/**
 * Every component using the same client shares one list. The client is, in this order: the
 * argument (a client, or options for a client of this component's own, read on the first
 * render), the nearest `NotificationsProvider`'s, or one shared client for this page's origin.
 * The hook starts the client; it stops only a client it created, once no component uses it.
 */
export declare function useNotifications(
  options?: ClientOptions | NotificationClient,
): UseNotificationsReturn;

/** Gives `useNotifications()` below it this client (e.g. one with the service's `baseUrl`). */
export declare function NotificationsProvider(props: {
  client: NotificationClient;
  children?: ReactNode;
}): ReactElement;
