// The front end's type registry (clients/js/src/types.js), status words, times and the small
// HTTP helper: what the page, <notification-center>, desktop and the push worker all read.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const types = await import('../../../clients/js/src/types.js');
const { statusProblem, statusText } = await import('../../../clients/js/src/status.js');
const { duration, timeAgo } = await import('../../../clients/js/src/time.js');
const { detailOf, send } = await import('../../../clients/js/src/http.js');
const { TypeRegistry, bodyKey, clickAction, describe, kindOf, labelOf, notificationTag } = types;

const labels = new Map([
  ['video_complete', { name: 'video_complete', label: 'Your video is ready', description: 'Ready.' }],
  ['brand_new', { name: 'brand_new', label: 'Something new', description: 'A new kind of news.' }],
]);

test('each known type reads its own payload key, with a placeholder when it is empty', () => {
  const done = { type: 'video_complete', payload: { title: 'Volcanoes', question: 'ignored' } };
  assert.deepEqual(describe(done, labels), { heading: 'Your video is ready', body: 'Volcanoes' });
  assert.equal(describe({ type: 'video_complete', payload: { title: '  ' } }, labels).body, 'Untitled video');
  const failed = { type: 'video_failed', payload: { title: 'Volcanoes', error_message: 'It broke.' } };
  assert.deepEqual(describe(failed), { heading: "We couldn't make “Volcanoes”", body: 'It broke.' });
  assert.equal(describe({ type: 'video_failed', payload: {} }).heading, 'video failed');
  assert.equal(describe({ type: 'clarification_needed', payload: {} }).body, 'Please tell us more about your question.');
  assert.equal(bodyKey(failed), 'error_message');
  assert.equal(bodyKey({ type: 'clarification_needed', payload: { title: 'x' } }), 'question');
});

test('a type the registry does not name: its label, the first filled text key, else its description', () => {
  const n = (payload) => ({ type: 'brand_new', payload });
  assert.deepEqual(describe(n({ question: 'Why?', error_message: 'No.' }), labels), {
    heading: 'Something new',
    body: 'No.',
  });
  assert.equal(describe(n({ question: 'Why?', error_message: ' ' }), labels).body, 'Why?');
  assert.equal(describe(n({ title: 7, error_message: 'No.' }), labels).body, 'No.');
  assert.equal(describe(n({}), labels).body, 'A new kind of news.');
  assert.equal(bodyKey(n({})), null);
  // No labels yet (or none at all): the name in words, never a blank heading.
  assert.equal(describe(n({}), new Map()).heading, 'brand new');
  assert.equal(describe({ type: 'x', payload: null }).body, '');
  assert.equal(labelOf('brand_new', new Map([['brand_new', { label: '' }]])), 'brand new');
});

test('icons, tones and click actions come from the registry, with defaults for any other type', () => {
  assert.equal(kindOf('video_complete').icon, '▶');
  assert.equal(kindOf('clarification_needed').tone, 'clarify');
  assert.deepEqual(
    { icon: kindOf('brand_new').icon, tone: kindOf('brand_new').tone, click: kindOf('brand_new').click },
    { icon: '•', tone: 'info', click: 'open' },
  );
  assert.equal(kindOf('toString').icon, '•'); // only the registry's own names
  const video = { content_id: 'c1', video_url: '/media/v.webm' };
  assert.equal(clickAction({ type: 'video_complete', payload: video }), 'watch');
  assert.equal(clickAction({ type: 'video_complete', payload: { content_id: 'c1' } }), 'request');
  assert.equal(clickAction({ type: 'video_failed', payload: video }), 'request');
  assert.equal(clickAction({ type: 'clarification_needed', payload: { content_id: 'c1' } }), 'answer');
  assert.equal(clickAction({ type: 'brand_new', payload: video }), 'watch');
  assert.equal(clickAction({ type: 'brand_new', payload: { content_id: 'c1' } }), 'request');
  assert.equal(clickAction({ type: 'brand_new', payload: {} }), null);
  assert.equal(notificationTag(42), 'vividly-42');
});

test('the TypeRegistry reads once for concurrent asks and once more for a type it lacked', async () => {
  let reads = 0;
  let answer = [{ name: 'video_complete', label: 'Ready', description: 'd' }];
  const registry = new TypeRegistry(async () => {
    reads += 1;
    return answer;
  });
  let changes = 0;
  registry.addEventListener('change', () => (changes += 1));
  await Promise.all([registry.load(), registry.load()]);
  assert.equal(reads, 1);
  assert.equal(registry.label('video_complete'), 'Ready');
  assert.equal(describe({ type: 'video_complete', payload: {} }, registry).heading, 'Ready');
  answer = [...answer, { name: 'brand_new', label: 'New', description: '' }];
  await registry.ensure('brand_new');
  await registry.ensure('gone');
  await registry.ensure('gone'); // missing after a fresh read: not asked again
  assert.equal(reads, 3);
  assert.equal(registry.label('brand_new'), 'New');
  assert.equal(changes, 3);
  assert.deepEqual(registry.list().map((t) => t.name), ['video_complete', 'brand_new']);
});

test('status words and problems are said once, for every status', () => {
  assert.equal(statusText('connected'), 'Live');
  assert.equal(statusText('unavailable'), 'Service unavailable, retrying…');
  assert.equal(statusText('something_new'), 'something_new');
  assert.equal(statusProblem('connected'), null);
  assert.match(statusProblem('auth_expired'), /sign in again/);
  assert.equal(statusText('hasOwnProperty'), 'hasOwnProperty');
});

test('relative times and lengths', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  assert.equal(timeAgo('2026-11-27T11:59:30Z', now), 'just now');
  assert.equal(timeAgo('2026-11-27T11:55:00Z', now), '5 minutes ago');
  assert.equal(timeAgo('2026-11-26T12:00:00Z', now), 'yesterday');
  assert.equal(timeAgo('not a time', now), '');
  assert.equal(duration(75), '1:15');
});

test('the HTTP helper: base, cookie, token, JSON both ways; errors are the caller’s', async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    if (init.method === 'DELETE') return new Response(null, { status: 204 });
    return new Response(JSON.stringify({ detail: [{ msg: 'bad' }, {}] }), { status: 422 });
  };
  const options = { apiBase: 'https://notify.example/', fetch, getToken: async () => 't0k' };
  const { response, json } = await send(options, 'PUT', '/digest/preferences', { a: 1 });
  assert.equal(response.status, 422);
  assert.equal(detailOf(json, 422), 'bad; invalid input');
  assert.equal(calls[0].url, 'https://notify.example/api/v1/digest/preferences');
  assert.equal(calls[0].init.credentials, 'include');
  assert.equal(calls[0].init.headers.Authorization, 'Bearer t0k');
  assert.equal(calls[0].init.body, '{"a":1}');
  assert.deepEqual((await send({ fetch }, 'DELETE', '/x')).json, null);
  assert.equal(calls[1].url, '/api/v1/x');
  assert.equal(calls[1].init.headers['Content-Type'], undefined);
  assert.equal(detailOf(null, 503), 'HTTP 503');
});
