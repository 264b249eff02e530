// The copy a notification was made with (an A/B test's variant, or its type's default copy) is
// its heading and body wherever the client package describes it (the page, the element,
// desktop notifications), before the type's own wording.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const { COPY_KEYS, describe } = await import('../../../clients/js/src/types.js');

const labels = new Map([['video_complete', { name: 'video_complete', label: 'Your video is ready', description: 'Ready.' }]]);

test('filled copy is the heading and the body, stripped', () => {
  const n = { type: 'video_complete', payload: { title: 'Tides', copy_heading: ' Tides is ready! ', copy_body: 'Watch it now.' } };
  assert.deepEqual(describe(n, labels), { heading: 'Tides is ready!', body: 'Watch it now.' });
  // A failure's own heading ("We couldn't make …") gives way to its copy too.
  const failed = { type: 'video_failed', payload: { title: 'Tides', error_message: 'No.', copy_heading: 'Sorry' } };
  assert.deepEqual(describe(failed), { heading: 'Sorry', body: 'No.' });
});

test('blank or non-string copy is ignored: the type wording as before', () => {
  for (const copy of [{ copy_heading: '  ', copy_body: '' }, { copy_heading: 7, copy_body: null }, {}]) {
    const n = { type: 'video_complete', payload: { title: 'Tides', ...copy } };
    assert.deepEqual(describe(n, labels), { heading: 'Your video is ready', body: 'Tides' });
  }
});

test('the keys are the server rule\'s', () => {
  assert.deepEqual({ ...COPY_KEYS }, { heading: 'copy_heading', body: 'copy_body' });
  assert.ok(Object.isFrozen(COPY_KEYS));
});
