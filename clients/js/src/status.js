// What a NotificationClient's `status` says to a person: a few words for a header or a panel
// (`statusText`), and for the states that are a problem a sentence (`statusProblem`), as the
// React hook's `error`. The page, <notification-center> and the hook all read them from here.

const WORDS = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  unavailable: 'Service unavailable, retrying…', // the service is up but cannot reach its database
  too_many_places: 'Open in too many places, retrying slowly',
  paused: 'Paused here: open on too many devices', // displaced by a newer device; resumes when asked
  auth_expired: 'Session expired: sign in again',
  stopped: 'Stopped',
};

const PROBLEMS = {
  unavailable: 'The notification service cannot reach its database; retrying.',
  too_many_places: 'Notifications are open in too many places; retrying slowly.',
  paused: 'Notifications are paused here because they are open on too many other devices; resume to get them here.',
  auth_expired: 'Your session has expired: sign in again to get notifications.',
};

/** A few words for `status` (the status itself when it is one this code does not know). */
export function statusText(status) {
  return Object.hasOwn(WORDS, status) ? WORDS[status] : String(status);
}

/** A sentence for a status that is a problem, else null. */
export function statusProblem(status) {
  return Object.hasOwn(PROBLEMS, status) ? PROBLEMS[status] : null;
}
