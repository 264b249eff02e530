// NotificationList's restore, snooze, Archived view and type filter, on a fake client; and the
// requests Api sends for them, on a fake fetch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotificationList } from '../../../clients/js/src/list.js';
import { Api, ApiError } from '../../../clients/js/src/api.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

const row = (id, more = {}) => ({
  id,
  type: 'video_complete',
  user_id: 'u',
  payload: { title: `n${id}` },
  timestamp: '2026-12-07T10:00:00Z',
  read_at: null,
  dismissed_at: null,
  snoozed_until: null,
  ...more,
});

/** A client whose history is `rows` filtered as the server does; actions wait for `answer`. */
class FakeClient extends EventTarget {
  constructor(rows) {
    super();
    this.rows = rows;
    this.status = 'connected';
    this.queries = [];
    this.calls = [];
    this.pending = [];
  }

  start() {}

  reportSeen() {}

  async history(query) {
    this.queries.push(query);
    const items = this.rows
      .filter((n) => (query.archived ? n.dismissed_at : !n.dismissed_at))
      .filter((n) => !query.type || n.type === query.type)
      .sort((a, b) => b.id - a.id);
    const unread = this.rows.filter((n) => !n.read_at && !n.dismissed_at).length;
    return { items, next_before: null, unread_count: unread };
  }

  #call(name, id, change, ...args) {
    this.calls.push([name, id, ...args]);
    return new Promise((resolve, reject) => {
      this.pending.push({
        ok: () => {
          const index = this.rows.findIndex((n) => n.id === id);
          this.rows[index] = { ...this.rows[index], ...change };
          resolve(this.rows[index]);
        },
        refuse: (status, detail) => reject(new ApiError(status, detail)),
      });
    });
  }

  archive(id) {
    return this.#call('archive', id, { dismissed_at: '2026-12-07T11:00:00Z' });
  }

  restore(id) {
    return this.#call('restore', id, { dismissed_at: null, snoozed_until: null });
  }

  snooze(id, until) {
    const at = until instanceof Date ? until.toISOString() : until;
    return this.#call('snooze', id, { dismissed_at: '2026-12-07T11:00:00Z', snoozed_until: at }, until);
  }

  send(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}

async function listOf(rows) {
  const client = new FakeClient(rows);
  const errors = [];
  const list = new NotificationList(client, () => {
    if (list.error && errors.at(-1) !== list.error) errors.push(list.error);
  });
  list.attach();
  await list.loading;
  return { client, list, errors, ids: () => list.items.map((n) => n.id) };
}

test('restore after archive shows the item back at once, before the server answers', async () => {
  const { client, list, ids } = await listOf([row(1), row(2, { read_at: '2026-12-07T10:01:00Z' }), row(3)]);
  assert.equal(list.unreadCount, 2);
  const archived = list.archive(3);
  assert.deepEqual(ids(), [2, 1]);
  assert.equal(list.unreadCount, 1);
  client.pending.shift().ok();
  await archived;
  const restored = list.restore(3);
  assert.deepEqual(ids(), [3, 2, 1]); // the Undo is instant
  assert.equal(list.unreadCount, 2);
  assert.equal(list.items[0].dismissed_at, null);
  assert.deepEqual(client.calls.at(-1), ['restore', 3]);
  client.pending.shift().ok();
  await restored;
  assert.deepEqual(ids(), [3, 2, 1]);
  assert.equal(list.error, null);
});

test('restore of one this list never held appears when the server answers', async () => {
  const { client, list, ids } = await listOf([row(1), row(2, { dismissed_at: '2026-12-07T10:01:00Z' })]);
  const restored = list.restore(2);
  assert.deepEqual(ids(), [1]);
  client.pending.shift().ok();
  await restored;
  assert.deepEqual(ids(), [2, 1]);
});

test('snooze leaves at once; a refusal lands in error and the list reloads it', async () => {
  const { client, list, errors, ids } = await listOf([row(1), row(2)]);
  const until = new Date(Date.now() + 3600_000);
  const ok = list.snooze(2, until);
  assert.deepEqual(ids(), [1]);
  assert.equal(list.unreadCount, 1);
  assert.deepEqual(client.calls.at(-1), ['snooze', 2, until]);
  client.pending.shift().ok();
  await ok;
  assert.deepEqual(ids(), [1]);

  const refused = list.snooze(1, 'tomorrow');
  assert.deepEqual(ids(), []);
  client.pending.shift().refuse(422, [{ loc: ['body', 'until'], msg: 'Value error, must lie in the future' }]);
  await refused;
  assert.deepEqual(errors.map((error) => error.status), [422]);
  await list.loading;
  assert.deepEqual(ids(), [1]);
  assert.equal(list.unreadCount, 1);

  // It comes back as a new notification (a new id), live: listed and counted.
  client.send('notification', row(7, { payload: { title: 'n2' } }));
  assert.deepEqual(ids(), [7, 1]);
  assert.equal(list.unreadCount, 2);
});

test('the Archived view lists archived ones only; live ones stay out but count', async () => {
  const snoozedUntil = '2026-12-08T08:00:00Z';
  const archivedAt = '2026-12-07T10:00:00Z';
  const { client, list, ids } = await listOf([
    row(1, { dismissed_at: archivedAt }),
    row(2),
    row(3, { dismissed_at: archivedAt, snoozed_until: snoozedUntil }),
    row(4, { dismissed_at: archivedAt }),
  ]);
  const change = (id, more) => {
    const index = client.rows.findIndex((n) => n.id === id);
    client.rows[index] = { ...client.rows[index], ...more };
  };
  const settled = async () => {
    await tick();
    await list.loading;
  };
  list.setUnreadOnly(true);
  await list.setArchived(true);
  assert.equal(list.archived, true);
  assert.deepEqual(client.queries.at(-1), { limit: 20, archived: true, type: undefined });
  assert.deepEqual(ids(), [4, 3, 1]);
  assert.equal(list.items[1].snoozed_until, snoozedUntil);
  assert.equal(list.unreadCount, 1);

  // A live one does not enter (it counts). The view holds a snoozed one: it reloads, since
  // a snooze that ended is a new row and its old row is gone.
  client.rows.push(row(5));
  let asked = client.queries.length;
  client.send('notification', row(5));
  assert.deepEqual(ids(), [4, 3, 1]);
  assert.equal(list.unreadCount, 2);
  await settled();
  assert.equal(client.queries.length, asked + 1);
  client.rows = client.rows.filter((n) => n.id !== 3);
  client.rows.push(row(6, { payload: { title: 'n3' } }));
  client.send('notification', row(6, { payload: { title: 'n3' } }));
  await settled();
  assert.deepEqual(ids(), [4, 1]);
  assert.equal(list.unreadCount, 3);

  // Restored elsewhere: it leaves this view. Archived elsewhere: the view reloads and shows it.
  change(1, { dismissed_at: null });
  client.send('read_state', { state: 'restored', ids: [1], changed: 1, up_to_id: 1, unread_count: 4 });
  assert.deepEqual(ids(), [4]);
  change(2, { dismissed_at: '2026-12-07T12:00:00Z' });
  asked = client.queries.length;
  client.send('read_state', { state: 'dismissed', ids: [2], changed: 1, up_to_id: 2, unread_count: 3 });
  await settled();
  assert.equal(client.queries.length, asked + 1);
  assert.deepEqual(ids(), [4, 2]);

  // Restore from the Archived view: it leaves at once.
  const restored = list.restore(4);
  assert.deepEqual(ids(), [2]);
  client.pending.shift().ok();
  await restored;
  assert.deepEqual(ids(), [2]);

  await list.setArchived(false);
  assert.deepEqual(client.queries.at(-1), { limit: 20, unreadOnly: true, type: undefined });
});

test('the type filter asks history with type= and keeps live ones of other types out', async () => {
  const { client, list, ids } = await listOf([row(1), row(2, { type: 'video_failed' }), row(3)]);
  await list.setType('video_failed');
  assert.equal(list.type, 'video_failed');
  assert.equal(client.queries.at(-1).type, 'video_failed');
  assert.deepEqual(ids(), [2]);
  client.send('notification', row(4));
  client.send('notification', row(5, { type: 'video_failed' }));
  assert.deepEqual(ids(), [5, 2]);
  assert.equal(list.unreadCount, 5);
  await list.setType(null);
  assert.equal(client.queries.at(-1).type, undefined);
  assert.deepEqual(ids(), [3, 2, 1]); // the fake server's rows; 4 and 5 were only live
});

test('Api: restore, snooze (a Date as UTC, a string as given) and history archived=', async () => {
  const sent = [];
  globalThis.fetch = async (url, init) => {
    sent.push({ url, method: init.method, body: init.body && JSON.parse(init.body) });
    return new Response('{"id": 5}', { status: 200 });
  };
  const api = new Api('http://svc.example', {});
  await api.restore(5);
  await api.snooze(5, new Date('2030-01-01T09:00:00+01:00'));
  await api.snooze(5, '2030-01-01T10:00:00+01:00');
  await api.history({ archived: true, type: 'video_failed', limit: 5 });
  assert.deepEqual(sent, [
    { url: 'http://svc.example/api/v1/notifications/5/restore', method: 'POST', body: undefined },
    { url: 'http://svc.example/api/v1/notifications/5/snooze', method: 'POST', body: { until: '2030-01-01T08:00:00.000Z' } },
    { url: 'http://svc.example/api/v1/notifications/5/snooze', method: 'POST', body: { until: '2030-01-01T10:00:00+01:00' } },
    {
      url: 'http://svc.example/api/v1/notifications/history?limit=5&type=video_failed&archived=true',
      method: 'GET',
      body: undefined,
    },
  ]);
  await assert.rejects(api.snooze(5, new Date('nonsense')), ApiError);
  await assert.rejects(api.snooze(5, 12), ApiError);
  assert.equal(sent.length, 4);
});
