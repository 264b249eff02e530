// SeenReporter: batched after a quiet period, only while the page is visible, each id once,
// at most 100 per request, and a failed report is reported again later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeenReporter } from '../../../clients/js/src/reach.js';

const tick = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function page(visibility = 'visible') {
  const doc = new EventTarget();
  doc.visibilityState = visibility;
  globalThis.document = doc;
  return doc;
}

test('ids noted together go in one request after the quiet period, each once', async () => {
  page();
  const sent = [];
  const reporter = new SeenReporter(async (ids) => sent.push(ids), { delay: 20 });
  reporter.add([3, 1]);
  reporter.add([1, 2]);
  assert.deepEqual(sent, []);
  await tick(40);
  assert.deepEqual(sent, [[3, 1, 2]]);
  reporter.add([1, 2, 3, 0, -1, 1.5, 'x']);
  await tick(40);
  assert.deepEqual(sent, [[3, 1, 2]]); // already reported; bad ids never sent
});

test('a hidden page sends nothing until it is visible again', async () => {
  const doc = page('hidden');
  const sent = [];
  const reporter = new SeenReporter(async (ids) => sent.push(ids), { delay: 10 });
  reporter.add([1]); // not on screen: not seen
  await tick(30);
  assert.deepEqual(sent, []);
  doc.visibilityState = 'visible';
  reporter.add([2]);
  doc.visibilityState = 'hidden'; // hidden before the quiet period ended: waits
  await tick(30);
  assert.deepEqual(sent, []);
  doc.visibilityState = 'visible';
  doc.dispatchEvent(new Event('visibilitychange'));
  await tick(5);
  assert.deepEqual(sent, [[2]]);
});

test('more than 100 ids go in requests of 100; a failed one is reported again', async () => {
  page();
  const sent = [];
  let fail = true;
  const reporter = new SeenReporter(
    async (ids) => {
      sent.push(ids.length);
      if (fail && ids.length === 50) throw new Error('offline');
    },
    { delay: 5 },
  );
  reporter.add(Array.from({ length: 250 }, (_, i) => i + 1));
  await tick(30);
  assert.deepEqual(sent, [100, 100, 50]);
  fail = false;
  reporter.add(Array.from({ length: 250 }, (_, i) => i + 1));
  await tick(30);
  assert.deepEqual(sent, [100, 100, 50, 50]); // only the failed ones again
});
