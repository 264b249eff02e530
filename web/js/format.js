// The page's own words: content-request statuses and the panel's day headings. Plain strings;
// views put them in with textContent. What a notification says, the connection's status and
// times in words are the client package's (/client/types.js, status.js, time.js).

// A content request's status (the server's `content_requests.status`): its label, its tone (a
// class for colour), whether work is still in flight, and what its row shows beside the
// question: the video, the error (with "Try again") or the question to answer. The only place
// the page names a status; one it does not know shows as its name.
const STATUSES = {
  pending: { label: 'Pending', tone: 'working', inFlight: true },
  processing: { label: 'Making your video', tone: 'working', inFlight: true },
  completed: { label: 'Ready', tone: 'ok', shows: 'video' },
  failed: { label: 'Failed', tone: 'bad', shows: 'error' },
  clarification_needed: { label: 'Needs your answer', tone: 'warn', shows: 'question' },
};

// A request's pipeline stage (`stage` while processing) in the student's words: the five stages
// of the worker (service/requests/pipeline.py) as four steps. A stage it does not know counts as
// the first step with no words of its own.
const STEPS = ['Understanding your question', 'Writing the script', 'Recording the voice', 'Making the video'];
const STAGE_STEP = { nlu: 0, rag: 0, script: 1, tts: 2, video: 3 };

/** {step (1-based), of, label} of a stage, or null when it has none (not started yet). */
export function requestStep(stage) {
  if (typeof stage !== 'string' || !stage) return null;
  const index = Object.hasOwn(STAGE_STEP, stage) ? STAGE_STEP[stage] : 0;
  return { step: index + 1, of: STEPS.length, label: STEPS[index] };
}

/** {label, tone, inFlight, shows} of a content request's status. */
export function requestStatus(status) {
  const known = Object.hasOwn(STATUSES, status) ? STATUSES[status] : {};
  return { label: String(status), tone: 'other', inFlight: false, shows: null, ...known };
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
