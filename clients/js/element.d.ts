// <notification-center>: a bell with the unread count and a panel with the history, for pages
// without React. Importing `@vividly/notifications-client/element` (or `/client/element.js`
// from the service) defines it.
//
//   <notification-center base-url="https://notify.example"></notification-center>
//
// Attributes: `base-url` (the service; default this page's origin). Theming: the custom
// properties `--nc-accent`, `--nc-badge`, `--nc-bg`, `--nc-fg`, `--nc-muted`, `--nc-border`,
// `--nc-unread`, and `::part(bell)`, `::part(badge)`, `::part(panel)`.
import type { Notification, NotificationClient } from './index';

export interface NotificationCenterEventMap extends HTMLElementEventMap {
  /**
   * A notification was clicked (it is marked read). Unless `preventDefault()` is called, its
   * subject's page on the service (`link`: the video in the app's player, or the request with
   * its "Try again" or question) opens in a new tab.
   */
  'notification-click': CustomEvent<Notification>;
}

export declare class NotificationCenterElement extends HTMLElement {
  /**
   * The client it shows. By default one of its own for `base-url`, started when the element
   * connects and stopped when it disconnects. Set one to share it with the page (e.g. one with
   * `getToken`): the element starts it but never stops it. Set null to go back to its own.
   */
  client: NotificationClient | null;
  /** Whether the panel is open. */
  readonly open: boolean;
  /** Open the panel. */
  show(): void;
  /** Close the panel. */
  close(): void;

  addEventListener<K extends keyof NotificationCenterEventMap>(
    type: K,
    listener: (this: NotificationCenterElement, event: NotificationCenterEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof NotificationCenterEventMap>(
    type: K,
    listener: (this: NotificationCenterElement, event: NotificationCenterEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'notification-center': NotificationCenterElement;
  }
}
