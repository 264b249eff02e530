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
}

/** Service workers, the Push API and notifications are available. */
export function pushSupported(): boolean;
/** What this browser's push subscription is for the signed-in user. */
export function pushState(options?: PushOptions): Promise<PushState>;
/** Call from a user gesture: asks permission, subscribes, stores it with the API. */
export function enablePush(options?: PushOptions): Promise<PushState>;
/** Removes the subscription from the API and the browser. */
export function disablePush(options?: PushOptions): Promise<PushState>;

/** What the service worker posts to an open tab when its notification is clicked. */
export interface PushClickMessage {
  type: 'vividly-push-click';
  notification: {
    id: number;
    type: string;
    title: string;
    body: string;
    link: string;
    timestamp: string;
  } | null;
}
