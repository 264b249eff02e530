// The Stream alone, over a fake EventSource: the reconnect delay stays within 3 s however many
// attempts failed (an `unavailable` answer's retry is waited as asked), retryNow() opens at
// once, and `displaced` pauses it (no reconnect by itself) until retryNow().
import assert from 'node:assert/strict';
import { test } from 'node:test';

const opened = [];
class FakeSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  constructor(url) {
    this.url = url;
    this.readyState = FakeSource.CONNECTING;
    this.listeners = {};
    opened.push(this);
  }
  addEventListener(name, listener) {
    this.listeners[name] = listener;
  }
  emit(name, data, lastEventId = '') {
    this.listeners[name]?.({ data: JSON.stringify(data), lastEventId });
  }
  fail() {
    this.onerror?.(); // CONNECTING: a network error, retried with the backoff
  }
  close() {
    this.readyState = FakeSource.CLOSED;
  }
}
globalThis.EventSource = FakeSource;

const delays = [];
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = (fn, ms, ...rest) => {
  if (ms >= 100) delays.push(ms); // the stream's own waits (the tests' ticks are shorter)
  return realSetTimeout(fn, Math.min(ms, 5), ...rest);
};

const { Stream } = await import('../../../clients/js/src/stream.js');
const tick = () => new Promise((resolve) => realSetTimeout(resolve, 20));

function stream() {
  const statuses = [];
  const events = [];
  const s = new Stream('http://svc.example/api/v1/notifications/stream', {
    withCredentials: false,
    hooks: { event: (name, detail) => events.push([name, detail]), status: (st) => statuses.push(st) },
  });
  return { s, statuses, events };
}

test('the reconnect delay stays within 3 s however many attempts failed', async () => {
  const { s } = stream();
  s.start(5);
  delays.length = 0;
  for (let i = 0; i < 20; i += 1) {
    opened.at(-1).fail();
    await tick();
  }
  const backoffs = delays.filter((ms) => ms !== 30_000); // not the stable-stream timer
  assert.ok(backoffs.length >= 20, `${backoffs.length} waits`);
  assert.ok(Math.max(...backoffs) <= 3000, `longest wait ${Math.max(...backoffs)} ms`);
  s.stop();
});

test("an `unavailable` answer's retry is waited as the server asks", async () => {
  const { s, statuses } = stream();
  s.start(1);
  delays.length = 0;
  const source = opened.at(-1);
  source.emit('unavailable', { detail: 'busy', retry_ms: 4321 });
  source.fail(); // the server ends the answer
  assert.equal(statuses.at(-1), 'unavailable');
  assert.ok(delays.includes(4321), String(delays));
  s.stop();
});

test('progress is passed on; displaced pauses until retryNow', async () => {
  const { s, statuses, events } = stream();
  s.start(7);
  const first = opened.at(-1);
  first.emit('connected', { timestamp: 'x' }, '7');
  first.emit('progress', { content_id: 'c', status: 'processing', stage: 'tts' });
  assert.deepEqual(events.at(-1), ['progress', { content_id: 'c', status: 'processing', stage: 'tts' }]);
  const count = opened.length;
  first.emit('displaced', { reason: 'too_many_streams' });
  await tick();
  await tick();
  assert.equal(statuses.at(-1), 'paused');
  assert.equal(opened.length, count, 'no reconnect by itself');
  assert.equal(first.readyState, FakeSource.CLOSED);
  s.retryNow();
  assert.equal(opened.length, count + 1);
  assert.ok(opened.at(-1).url.endsWith('?last_event_id=7'));
  s.stop();
});

test('retryNow cuts a wait short, and does nothing while connected', async () => {
  const { s } = stream();
  s.start(3);
  opened.at(-1).emit('connected', {}, '3');
  let count = opened.length;
  s.retryNow();
  assert.equal(opened.length, count, 'connected: nothing to do');
  globalThis.setTimeout = (fn, ms, ...rest) => realSetTimeout(fn, ms >= 100 ? 60_000 : ms, ...rest);
  try {
    opened.at(-1).fail(); // the next try is a long way off now
    count = opened.length;
    s.retryNow();
    assert.equal(opened.length, count + 1, 'opened at once');
  } finally {
    s.stop();
  }
});
