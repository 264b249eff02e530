// The page's panel logic that needs no browser: one thread per content request
// (web/js/views/threads.js) and the snooze times offered (web/js/views/snooze.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

const { threadsOf } = await import('../../../web/js/views/threads.js');
const { snoozeChoices } = await import('../../../web/js/views/snooze.js');

const n = (id, contentId, extra = {}) => ({ id, type: 'video_complete', payload: contentId ? { content_id: contentId } : {}, ...extra });

test('notifications about one request are one thread, newest on top, in the order of their newest', () => {
  // Newest first, as the NotificationList gives them.
  const items = [n(5, 'a'), n(4, null), n(3, 'b', { read_at: 'x' }), n(2, 'a', { read_at: 'x' }), n(1, 'a')];
  const threads = threadsOf(items);
  assert.deepEqual(
    threads.map((t) => [t.key, t.head.id, t.history.map((h) => h.id), t.unread]),
    [
      ['request:a', 5, [2, 1], true],
      ['notification:4', 4, [], true],
      ['request:b', 3, [], false],
    ],
  );
  assert.deepEqual(threadsOf([]), []);
});

test('snooze offers an hour, this evening while it is more than an hour away, and tomorrow morning', () => {
  const morning = new Date(2026, 11, 7, 9, 30);
  const choices = snoozeChoices(morning);
  assert.deepEqual(
    choices.map((c) => c.until.getTime()),
    [new Date(2026, 11, 7, 10, 30).getTime(), new Date(2026, 11, 7, 18, 0).getTime(), new Date(2026, 11, 8, 8, 0).getTime()],
  );
  assert.match(choices[0].label, /^1 hour$/);
  assert.match(choices[1].label, /^This evening/);
  assert.match(choices[2].label, /^Tomorrow morning/);
  const late = snoozeChoices(new Date(2026, 11, 31, 17, 30)); // and over a year's end
  assert.deepEqual(
    late.map((c) => c.until.getTime()),
    [new Date(2026, 11, 31, 18, 30).getTime(), new Date(2027, 0, 1, 8, 0).getTime()],
  );
});
