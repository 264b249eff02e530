// Words and times for the views. Returns plain strings; views put them in with textContent.

export const STATUS_LABELS = {
  pending: 'Pending',
  processing: 'Making your video',
  completed: 'Ready',
  failed: 'Failed',
  clarification_needed: 'Needs your answer',
};

export const IN_FLIGHT = new Set(['pending', 'processing']);

/**
 * Heading and body of a notification. The heading is the registry's label (`types`, a
 * TypeRegistry); the body is what the payload says. Types this page knows by name get their
 * own wording; any other type, a new one included, shows its label and the payload's text.
 */
export function describe(notification, types) {
  const payload = notification.payload || {};
  const heading = types.label(notification.type);
  switch (notification.type) {
    case 'video_complete':
      return {
        heading,
        body: payload.title || 'Untitled video',
        extra: payload.duration_seconds != null ? duration(payload.duration_seconds) : '',
      };
    case 'video_failed':
      return {
        heading: payload.title ? `We couldn't make “${payload.title}”` : heading,
        body: payload.error_message || 'Something went wrong.',
        extra: '',
      };
    case 'clarification_needed':
      return {
        heading,
        body: payload.question || 'Please tell us more about your question.',
        extra: '',
      };
    default:
      return {
        heading,
        body: payload.title || payload.question || payload.error_message || types.description(notification.type),
        extra: '',
      };
  }
}

/** 75 -> "1:15". */
export function duration(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, '0')}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "just now", "5 minutes ago", "yesterday"... */
export function timeAgo(iso, now = Date.now()) {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return '';
  const seconds = Math.round((time - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  const steps = [
    [60, 'minute'],
    [24, 'hour'],
    [7, 'day'],
    [4.35, 'week'],
    [12, 'month'],
    [Infinity, 'year'],
  ];
  let value = seconds / 60;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return '';
}

export function fullTime(iso) {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? '' : absolute.format(time);
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'short', day: 'numeric' });
const dayWithYear = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** The local calendar day of a timestamp, "2026-11-27" (grouping key), or "" when unreadable. */
export function dayKey(iso) {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}`;
}

/** "Today", "Yesterday", "Monday, Nov 23", or with the year when it is not this year's. */
export function dayLabel(key, now = new Date()) {
  if (!key) return 'Earlier';
  const [year, month, day] = key.split('-').map(Number);
  const date = new Date(year, month - 1, day);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = Math.round((today - date) / 86_400_000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return year === now.getFullYear() ? dayFormat.format(date) : dayWithYear.format(date);
}
