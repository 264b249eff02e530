// NotificationClient as a follower tab, driven over its BroadcastChannel by a fake leader
// (Node's BroadcastChannel delivers between two objects of one process, as between tabs).
import assert from 'node:assert/strict';
import { test } from 'node:test';

globalThis.location = new URL('http://svc.example/');
// The lock is never granted: this client stays a follower.
Object.defineProperty(globalThis, 'navigator', {
  value: { locks: { request: () => new Promise(() => {}) } },
  configurable: true,
});
globalThis.EventSource = class {
  close() {}
};
const { NotificationClient, ApiError } = await import('../../../clients/js/src/index.js');

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

async function follower(run) {
  const client = new NotificationClient();
  const got = [];
  client.addEventListener('notification', (e) => got.push(e.detail.id));
  const channel = new BroadcastChannel('vividly-notifications http://svc.example');
  const send = async (message) => {
    channel.postMessage({ v: 1, ...message });
    await tick();
  };
  client.start();
  try {
    await run({ client, got, send });
  } finally {
    client.stop();
    channel.close();
  }
}

const event = (id) => ({ kind: 'event', name: 'notification', detail: { id }, cursor: id });

test('a new leader announcing an older cursor does not make a follower deliver again', () =>
  follower(async ({ client, got, send }) => {
    await send(event(9));
    await send(event(10)); // the old leader's last
    await send({ kind: 'status', status: 'reconnecting', cursor: 9 }); // the new leader's cursor
    assert.equal(client.lastEventId, 10);
    await send(event(10)); // the server's replay after 9
    await send(event(11));
    assert.deepEqual(got, [9, 10, 11]);
  }));

test('a reset lowers the cursor', () =>
  follower(async ({ client, got, send }) => {
    await send(event(10));
    await send({ kind: 'event', name: 'reset', detail: { reason: 'cursor_unknown' }, cursor: 4 });
    assert.equal(client.lastEventId, 4);
    await send(event(5));
    assert.deepEqual(got, [10, 5]);
  }));

test('request() rejects a bad path, never throws', async () => {
  const client = new NotificationClient({ shareAcrossTabs: false });
  let answer;
  assert.doesNotThrow(() => {
    answer = client.request('GET', 'content-requests');
  });
  await assert.rejects(answer, (error) => error instanceof ApiError && /not a path/.test(error.message));
});
