// @vividly/notifications-client: the browser client of the notification service.
// Types and documentation: ../index.d.ts.
export { NotificationClient } from './client.js';
export { ApiError } from './api.js';
export { NotificationList } from './list.js';
export { DesktopNotifier } from './desktop.js';
