// @vividly/notifications-client: the browser client of the notification service.
// One implementation, used by the service's own page (/), by the React hook (./react) and by
// the <notification-center> custom element (./element). No runtime dependencies.

export interface NotificationPayload {
  content_id?: string;
  title?: string;
  video_url?: string;
  thumbnail_url?: string;
  duration_seconds?: number;
  error_message?: string;
  question?: string;
}

/** One notification: the JSON of a `/history` item and of an unnamed stream message. */
export interface Notification {
  id: number;
  /** A registered type name (see `types()`); new types may appear at any time. */
  type: string;
  user_id: string;
  payload: NotificationPayload;
  /**
   * Where a click leads: the path of its subject's page in the app on the service (resolve it
   * against the service's URL): `/videos/<content_id>` (the ready video, in the app's player),
   * `/requests/<content_id>` (a failed or waiting request, with its "Try again" or question), or
   * `/` (nothing in particular). The server's one rule; a snoozed one that comes back keeps it.
   * Absent from servers older than links by subject.
   */
  link?: string;
  /** RFC 3339, UTC, `Z`. */
  timestamp: string;
  read_at: string | null;
  /** Set while archived (by hand, or snoozed). */
  dismissed_at: string | null;
  /**
   * Set while snoozed (it is archived until then): at that time the same notification comes
   * back as a new one, with a new `id`, unread, on every device (live, or replayed when a
   * device reconnects). Absent from servers older than snooze.
   */
  snoozed_until?: string | null;
}

export interface NotificationType {
  name: string;
  label: string;
  description: string;
}

export interface HistoryPage {
  items: Notification[];
  next_before: number | null;
  unread_count: number;
}

export interface HistoryQuery {
  before?: number;
  limit?: number;
  unreadOnly?: boolean;
  /** Only this type (a registry name). */
  type?: string;
  /** Archived ones too. */
  includeDismissed?: boolean;
  /** Only archived ones (snoozed ones among them, with `snoozed_until`); with `unreadOnly`, none. */
  archived?: boolean;
}

export interface BulkResult {
  updated: number;
  up_to_id: number | null;
  unread_count: number;
}

export interface UnreadCount {
  unread_count: number;
  by_type: Record<string, number>;
}

export interface Preferences {
  in_app: Record<string, boolean>;
}

/** `event: read_state` of the stream (state `sync` after a server-side reconnect). */
export interface ReadStateEvent {
  state: 'read' | 'unread' | 'dismissed' | 'restored' | 'sync';
  ids?: number[];
  up_to_id?: number;
  changed?: number;
  unread_count: number;
}

/**
 * `event: progress`: a content request of the user entered a pipeline stage (`nlu`, `rag`,
 * `script`, `tts`, `video`; `null` when it went back to `pending`). Live only, never replayed:
 * after a reconnect, read `stage` from `GET /api/v1/content-requests`.
 */
export interface ProgressEvent {
  content_id: string;
  status: 'pending' | 'processing';
  stage: string | null;
}

/** `event: reset`: the cursor could not be replayed; reload history. */
export interface ResetEvent {
  reason: 'cursor_expired' | 'cursor_unknown';
  latest_id: number;
}

/**
 * The shared stream's state, the same in every tab of the browser:
 * - `idle`: not started; `connecting`: first attempt; `connected`: the stream is up (here or in
 *   the leader tab);
 * - `reconnecting`: lost, retrying with full jitter (up to 0.5 s doubling to at most 3 s; at
 *   once when the browser comes back online, the page is shown again, or on `retryNow()`),
 *   resuming after `lastEventId`; `unavailable`: the server has no database connection,
 *   retrying;
 * - `too_many_places`: refused with 429 twice in a row (the user's other devices hold every
 *   slot), retrying every 30–60 s;
 * - `paused`: a newer device of the user took this stream's place (the server keeps
 *   MAX_STREAMS_PER_USER per process and ends the oldest); not retried by itself, so that the
 *   devices do not displace each other in turn: `retryNow()` (a "Resume" button) or showing the
 *   page again opens it, displacing the oldest in turn;
 * - `auth_expired`: the session cookie is missing or expired (and could not be renewed with
 *   `getToken`); nothing is retried: call `start()` after signing in again;
 * - `stopped`: `stop()` was called.
 */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'unavailable'
  | 'too_many_places'
  | 'paused'
  | 'auth_expired'
  | 'stopped';

export interface ClientOptions {
  /** Origin of the service, e.g. `https://notify.example`; default: this page's origin. */
  baseUrl?: string;
  /**
   * Bearer token for REST calls, asked for before each call. The stream always uses the
   * HttpOnly `access_token` cookie (EventSource cannot send headers): with `getToken`, the tab
   * that opens the stream first sets the cookie from the token (`createSession()`), and sets it
   * again when the stream reports the session expired (at most once per 30 s) before giving up
   * with `auth_expired`.
   */
  getToken?: () => string | null | Promise<string | null>;
  /**
   * One stream per browser, shared by its tabs (Web Locks + BroadcastChannel; per `baseUrl`).
   * Default true; without those APIs every tab has its own stream.
   */
  shareAcrossTabs?: boolean;
  /** Quiet time (ms) before the notifications reported seen are sent, batched; default 500. */
  seenDelayMs?: number;
}

export class ApiError extends Error {
  constructor(status: number, detail: unknown);
  /** HTTP status; 0 when the request never got an answer (or was not sent: a bad id). */
  readonly status: number;
  /** The server's `detail` (a string, or FastAPI's list of validation errors). */
  readonly detail: unknown;
}

/**
 * Events reach every client of the browser (all tabs), once each: a follower tab gets what the
 * leader's stream brought, skipping what it saw already.
 */
export interface NotificationClientEventMap {
  notification: CustomEvent<Notification>;
  read_state: CustomEvent<ReadStateEvent>;
  progress: CustomEvent<ProgressEvent>;
  reset: CustomEvent<ResetEvent>;
  status: CustomEvent<ConnectionStatus>;
  /**
   * The shared stream (re)connected; `resumed`: it replayed from a cursor, so nothing was missed.
   * Reload history if not.
   */
  connected: CustomEvent<{ resumed: boolean }>;
  auth_expired: CustomEvent<null>;
  /** This client became (true) or stopped being (false) the one holding the stream. */
  leader: CustomEvent<boolean>;
}

export class NotificationClient extends EventTarget {
  constructor(options?: ClientOptions);
  /** The service's URL (`baseUrl`, default this page's origin), without a trailing slash. */
  readonly baseUrl: string;
  readonly status: ConnectionStatus;
  /** Whether this client runs the stream (always, when tabs do not share one). */
  readonly isLeader: boolean;
  /**
   * The resume cursor: the newest notification id the stream delivered (or its starting point);
   * in a follower tab, as the leader last reported it.
   */
  readonly lastEventId: number | null;

  /**
   * Open the stream, or follow the tab that holds it. Idempotent; after `auth_expired`, starts
   * the stream again (in whichever tab holds it).
   */
  start(): void;
  /** Close the stream / leave the tab group (another tab takes the stream over). */
  stop(): void;
  /**
   * Try the stream now, in whichever tab holds it: a reconnect's wait is cut short, a `paused`
   * stream opens again. Nothing while connected. For "Retry now" and "Resume" buttons.
   */
  retryNow(): void;

  addEventListener<K extends keyof NotificationClientEventMap>(
    type: K,
    listener: (event: NotificationClientEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  // EventTarget's own signature, so that the class stays assignable to it.
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof NotificationClientEventMap>(
    type: K,
    listener: (event: NotificationClientEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;

  /** Exchange the Bearer token from `getToken` for the HttpOnly session cookie the stream needs. */
  createSession(): Promise<void>;
  history(query?: HistoryQuery): Promise<HistoryPage>;
  unreadCount(): Promise<UnreadCount>;
  markRead(id: number): Promise<Notification>;
  markUnread(id: number): Promise<Notification>;
  /**
   * Report notifications on the user's screen now (the list open and the page visible), for
   * the service's delivery analytics: batched after `seenDelayMs` without a new id (2 s at the
   * latest), sent only while the page is visible (and at once, with `keepalive`, on `pagehide`),
   * each id once per page. Never throws.
   */
  reportSeen(ids: number | number[]): void;
  /** Report that the user acted on one (Watch now, an answer): once per id; never rejects. */
  reportOpened(id: number): Promise<void>;
  archive(id: number): Promise<Notification>;
  /**
   * Undo `archive` (and cancel a snooze): back in the inbox, read or unread as it was; every
   * device hears `read_state` `restored`. Idempotent. Resolves to the row.
   */
  restore(id: number): Promise<Notification>;
  /**
   * Archive it now and bring it back as a new notification at `until` (a Date, or an RFC 3339
   * string with an offset; in the future, at most 30 days ahead: otherwise an `ApiError` 422
   * naming `body.until`). Snoozing again moves the time; `restore` cancels it. Resolves to the
   * row (with `snoozed_until`).
   */
  snooze(id: number, until: Date | string): Promise<Notification>;
  /** Mark read everything up to `upToId` (default: everything). */
  markAllRead(upToId?: number): Promise<BulkResult>;
  /** Archive everything up to `upToId` (default: everything): `POST /dismiss-all`. */
  clearAll(upToId?: number): Promise<BulkResult>;
  preferences(): Promise<Preferences>;
  /** Change the types named (others keep their setting); resolves to every type's setting. */
  setPreferences(inApp: Record<string, boolean>): Promise<Preferences>;
  /** The registered notification types, with labels for a preferences screen. */
  types(): Promise<NotificationType[]>;
  /**
   * Any other route of the service under `/api/v1` (`path` starts with `/`, e.g.
   * `/content-requests`), with the same credentials, token and `ApiError`s. Resolves to the
   * parsed JSON (null for an empty answer).
   */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/**
 * One client's notifications as a list a view draws (what `<notification-center>` and
 * `useNotifications` use): the server's history, newest first, kept live by the stream (new
 * ones, read state from any tab or device, archived ones leave, `reset`, a fresh page after
 * every connect, since read-state changes are not replayed), de-duplicated by id. Actions show
 * at once and reload from the server if it refuses (the error lands in `error`).
 */
export class NotificationList {
  /** `onChange()` is called after every change of what the getters below return. */
  constructor(client: NotificationClient, onChange: () => void);
  /** Listen to the client, start it and load the first page. */
  attach(): void;
  /** Stop listening and forget the list (the client keeps running). */
  detach(): void;
  /**
   * Newest first, as filtered: the inbox (archived ones left out; read ones too with
   * `unreadOnly`), or with `archived` only archived ones; with `type` only that type.
   */
  readonly items: Notification[];
  /** The server's unread count (not only the loaded pages'). */
  readonly unreadCount: number;
  readonly status: ConnectionStatus;
  /** False until the first page arrived. */
  readonly loaded: boolean;
  readonly hasMore: boolean;
  /** The last failed call, null once one works again. */
  readonly error: Error | null;
  readonly unreadOnly: boolean;
  /** Whether the list shows the Archived view (`setArchived`). */
  readonly archived: boolean;
  /** The type the list is filtered by (`setType`), or null. */
  readonly type: string | null;
  /** List only unread notifications (history is asked with `unread_only`), or all again. */
  setUnreadOnly(value: boolean): Promise<void>;
  /**
   * The Archived view (true): only archived notifications (history with `archived=true`),
   * snoozed ones among them with `snoozed_until`; live notifications do not enter it (they
   * still count in `unreadCount`); a notification restored anywhere leaves it, one archived
   * anywhere enters it, a snoozed one leaves when it comes back (the view reloads on a live
   * notification while it lists a snoozed one). `unreadOnly` does not apply there. False: the inbox again.
   */
  setArchived(value: boolean): Promise<void>;
  /**
   * Only notifications of this type (history with `type=`; live ones of other types do not
   * enter the list, but count in `unreadCount`), or every type again with null.
   */
  setType(type: string | null): Promise<void>;
  /** Load the newest page again. */
  refresh(): Promise<void>;
  /** Load the next older page. */
  loadMore(): Promise<void>;
  /** Marks it read (and reports it seen: it was on screen to be clicked). */
  markRead(id: number): Promise<void>;
  markUnread(id: number): Promise<void>;
  /** Archive it: it leaves the inbox at once (kept for an instant `restore`). */
  archive(id: number): Promise<void>;
  /**
   * Snooze it until `until` (a Date, or an RFC 3339 string with an offset): it leaves the inbox
   * at once (in the Archived view it stays, with `snoozed_until`), and comes back as a new
   * notification (a new id) at that time, live, on every device. A refusal (a bad `until`: 422)
   * lands in `error` and the list reloads.
   */
  snooze(id: number, until: Date | string): Promise<void>;
  /**
   * Undo archive or snooze: shown back in the inbox at once when this list archived or snoozed
   * it (else when the server answers), read or unread as it was; in the Archived view it leaves.
   * A notification that already came back from a snooze has a new id: restoring the old one is
   * a 404 (in `error`) and the list reloads.
   */
  restore(id: number): Promise<void>;
  /** Report the listed notifications as seen (call while the list is on screen). */
  reportSeen(): void;
  /**
   * Mark read (`'read'`) or archive (`'archive'`) everything up to the newest notification in
   * the list: one arriving meanwhile was never seen, so it stays. The listed ones are reported
   * seen (the list was on screen for the click).
   */
  bulk(kind: 'read' | 'archive'): Promise<void>;
}

export interface DesktopText {
  title: string;
  body?: string;
  /** An image URL for the system notification. */
  icon?: string;
}

export interface DesktopOptions {
  /** What the system notification says; null shows none. Default: the type registry's heading and
   * text (`describe` of `@vividly/notifications-client/types`, without the server's labels). */
  describe?: (notification: Notification) => DesktopText | null;
  /** Called after a click on it focused the tab that showed it (e.g. open the video). */
  onClick?: (notification: Notification) => void;
  /**
   * Who is signed in (e.g. `/me`'s `user_id`): the opt-in is kept for this user only, so
   * another user signing in on this browser is not opted in. Without it: per service.
   */
  user?: string;
}

/**
 * Desktop notifications (the Notification API) for live notifications that arrive while no tab
 * of the app is visible, shown once per browser: by the tab that holds the shared stream, after
 * asking the client's other tabs (those running a DesktopNotifier for the same service) whether
 * one is visible; tagged `vividly-<id>`. Opt-in, remembered per service and user in localStorage.
 * A notification read or archived anywhere closes its system notification; `stop()` closes
 * every one this tab showed.
 */
export class DesktopNotifier {
  constructor(client: NotificationClient, options?: DesktopOptions);
  /** The browser's permission, or `unsupported` without the Notification API. */
  readonly permission: NotificationPermission | 'unsupported';
  /** Opted in here and permitted by the browser. */
  readonly enabled: boolean;
  /** Opt in: asks the browser's permission when not yet asked (call it from a click). */
  enable(): Promise<boolean>;
  /** Opt out (every tab of this origin). */
  disable(): void;
  /** Follow the client's notifications; run it in every tab, visible or not. */
  start(): void;
  /** Stop following (e.g. sign-out) and close every system notification this tab showed. */
  stop(): void;
}
