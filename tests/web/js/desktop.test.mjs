// DesktopNotifier in a hidden leader tab, with the Notification API and localStorage faked.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const shown = []; // every system notification created, in order
globalThis.Notification = class extends EventTarget {
  static permission = 'granted';
  static requestPermission = async () => 'granted';
  constructor(title, options) {
    super();
    Object.assign(this, { title, tag: options.tag, closed: false });
    shown.push(this);
  }
  close() {
    this.closed = true;
    this.dispatchEvent(new Event('close'));
  }
};
const store = new Map();
globalThis.localStorage = {
  getItem: (key) => store.get(key) ?? null,
  setItem: (key, value) => store.set(key, String(value)),
  removeItem: (key) => store.delete(key),
};
globalThis.document = { visibilityState: 'hidden' };
const { DesktopNotifier } = await import('../../../clients/js/src/desktop.js');

class FakeClient extends EventTarget {
  baseUrl = 'http://svc.example';
  isLeader = true;
  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}

async function notifier(user = 'alice') {
  const client = new FakeClient();
  const desktop = new DesktopNotifier(client, { user });
  assert.equal(await desktop.enable(), true);
  desktop.start();
  return { client, desktop };
}

/** Deliver live notifications and wait until each is shown (after the visibility ask). */
async function arrive(client, ids) {
  const before = shown.length;
  for (const id of ids) client.emit('notification', { id, type: 'video_complete', payload: { title: `v${id}` } });
  await until(() => shown.length === before + ids.length);
  return shown.slice(before);
}

async function until(condition) {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition());
}

test('a read of more than the ids named closes every one up to up_to_id', async () => {
  const { client, desktop } = await notifier();
  try {
    const [one, two, three, four] = await arrive(client, [1, 2, 3, 4]);
    // 3 changed, only the oldest named (the trigger names at most 100).
    client.emit('read_state', { state: 'read', ids: [1], changed: 3, up_to_id: 3 });
    assert.deepEqual([one, two, three, four].map((n) => n.closed), [true, true, true, false]);
    client.emit('read_state', { state: 'dismissed', ids: [4], changed: 1, up_to_id: 4 });
    assert.equal(four.closed, true);
  } finally {
    desktop.stop();
  }
});

test('stop() closes what was shown and nothing appears after it', async () => {
  const { client, desktop } = await notifier();
  const [five] = await arrive(client, [5]);
  const before = shown.length;
  client.emit('notification', { id: 6, type: 'video_complete', payload: { title: 'v6' } });
  desktop.stop(); // signed out while the tab asked whether another one is visible
  await new Promise((resolve) => setTimeout(resolve, 250)); // longer than the ask's 150 ms
  assert.equal(shown.length, before);
  assert.equal(five.closed, true);
});

test('the opt-in is one user\'s', async () => {
  const { desktop } = await notifier('alice');
  desktop.stop();
  const bob = new DesktopNotifier(new FakeClient(), { user: 'bob' });
  assert.equal(bob.enabled, false);
  assert.equal(new DesktopNotifier(new FakeClient(), { user: 'alice' }).enabled, true);
});
