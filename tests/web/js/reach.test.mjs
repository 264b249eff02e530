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

test('a list re-rendering more often than the delay is still reported', async () => {
  page();
  const sent = [];
  const reporter = new SeenReporter(async (ids) => sent.push(ids), { delay: 30 });
  reporter.add([1, 2]);
  for (let i = 0; i < 10; i += 1) {
    await tick(10); // the same ids again every 10 ms: no new id, no new wait
    reporter.add([1, 2]);
  }
  assert.deepEqual(sent, [[1, 2]]);
  reporter.stop();
});

test('new ids arriving all the time are reported after maxWait at the latest', async () => {
  page();
  const sent = [];
  const reporter = new SeenReporter(async (ids) => sent.push(ids), { delay: 40, maxWait: 80 });
  let id = 0;
  const started = Date.now();
  while (sent.length === 0 && Date.now() - started < 1000) {
    reporter.add([(id += 1)]); // a new id every 10 ms: never 40 ms without one
    await tick(10);
  }
  assert.equal(sent.length, 1);
  assert.ok(sent[0].length >= 4 && sent[0].length < 40, `sent ${sent[0].length} ids`);
  reporter.stop();
});

test('pagehide sends what is pending at once, as a keepalive request, even when hidden', async () => {
  const doc = page();
  const win = new EventTarget();
  globalThis.addEventListener = win.addEventListener.bind(win);
  globalThis.removeEventListener = win.removeEventListener.bind(win);
  try {
    const sent = [];
    const reporter = new SeenReporter(async (ids, options) => sent.push([ids, options]), {
      delay: 10_000,
    });
    reporter.add([7, 8]);
    doc.visibilityState = 'hidden'; // the browser hides the page before pagehide
    win.dispatchEvent(new Event('pagehide'));
    await tick(0);
    assert.deepEqual(sent, [[[7, 8], { keepalive: true }]]);
    reporter.stop();
    doc.visibilityState = 'visible';
    reporter.add([9]);
    win.dispatchEvent(new Event('pagehide')); // stopped: no longer listening
    await tick(0);
    assert.equal(sent.length, 1);
    reporter.stop(); // [9]'s 10 s timer: Node would otherwise wait for it before exiting
  } finally {
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  }
});
