// @vividly/notifications-client/push: Web Push subscription helpers (src/push.js).

export type PushState = 'unsupported' | 'off' | 'denied' | 'enabled' | 'disabled';

export interface PushOptions {
  /** Where the API is; default: this origin. */
  apiBase?: string;
  /** The service worker script; default '/sw.js'. */
  workerUrl?: string;
  /** Its scope; default '/'. */
  scope?: string;
  fetch?: typeof fetch;
  /** A bearer token for the API calls (`Authorization: Bearer`), besides the session cookie. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
}

/** Service workers, the Push API and notifications are available. */
export function pushSupported(): boolean;
/** What this browser's push subscription is for the signed-in user ('enabled' only when the
 * server confirms the subscription is theirs). */
export function pushState(options?: PushOptions): Promise<PushState>;
/** Call from a user gesture: asks permission, subscribes, stores it with the API. */
export function enablePush(options?: PushOptions): Promise<PushState>;
/** Removes the subscription from the API and the browser (the browser's even when the API call
 * fails). Call it on logout, while the session is still valid: otherwise the next user of this
 * browser receives the previous user's pushes. */
export function disablePush(options?: PushOptions): Promise<PushState>;
/** After login: stores this browser's existing subscription (if any) for the signed-in user,
 * moving it from whoever had it. Idempotent; resolves to `pushState()`. */
export function syncPush(options?: PushOptions): Promise<PushState>;

/** What the service worker posts to an open tab when its notification is clicked, with a
 * MessagePort (`event.ports[0]`): answer `{handled: true}` on it when the page opened the
 * notification itself; otherwise (no answer within a second) the worker opens its link. */
export interface PushClickMessage {
  type: 'vividly-push-click';
  notification: {
    id: number;
    type: string;
    title: string;
    body: string;
    /** Where a click leads (absolute): the subject's page (the video's player, the request's
     * page), or the customer's video page (VIDEO_LINK_TEMPLATE). */
    link: string;
    timestamp: string;
    lang?: string;
    icon?: string;
    badge?: string;
    /** The video's thumbnail. */
    image?: string;
    /** Its buttons: "Watch now" (`watch`), "Try again" (`retry`), "Answer" (`answer`). */
    actions?: { action: 'watch' | 'retry' | 'answer'; title: string }[];
    /** The token that marks it read and opened without a session (the worker uses it). */
    action?: string;
  } | null;
  /** The button clicked (`watch`, `retry`, `answer`), or '' for the notification itself. */
  action?: '' | 'watch' | 'retry' | 'answer';
  /** Where the click leads (absolute): `link`, with `?action=retry|answer` for those buttons
   * when it is a page of the service (the page focuses that button or the answer box). A page
   * shows it in-app and answers `{handled: true}`. */
  url?: string;
}
