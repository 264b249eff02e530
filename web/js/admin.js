// The admin page: GET /api/v1/admin/analytics for a window, as a table and a small SVG chart.
// Data is written with textContent and SVG attributes only (the page's CSP allows no inline
// style or script). The session cookie authenticates; without an admin role the API says 403.
// Signing in: a pasted token is exchanged for the cookie (POST /api/v1/session with it as the
// Bearer); the development login's button shows only where that login answers (probed with an
// empty POST: 422 when it would answer, 404 when not served, 403 off the loopback).
const API = '/api/v1/admin/analytics';
const SVG = 'http://www.w3.org/2000/svg';
const DAY_MS = 24 * 3600 * 1000;

const byId = (id) => document.getElementById(id);
const percent = (value) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`);
const seconds = (value) => (value === null || value === undefined ? '–' : value.toFixed(2));
const count = (value) => (value === null || value === undefined ? '–' : value);
// A group too small to show (the API's `suppressed`: its numbers are null).
const HIDDEN = 'too few notifications to show';

// <input type="datetime-local"> speaks local time without a zone.
function localValue(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function say(text) {
  const message = byId('message');
  message.textContent = text;
  message.hidden = !text;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = String(text);
  row.append(td);
}

function tableRow(type, channel, r, isTotal) {
  const row = document.createElement('tr');
  if (isTotal) row.classList.add('type-total');
  if (r.suppressed) {
    row.classList.add('suppressed');
    row.title = HIDDEN;
  }
  row.dataset.type = type;
  row.dataset.channel = channel;
  for (const value of [
    type, channel, count(r.created), count(r.delivered), percent(r.delivery_rate),
    seconds(r.time_to_deliver_p50_seconds), seconds(r.time_to_deliver_p95_seconds),
    percent(r.seen_rate), percent(r.click_through),
  ]) cell(row, value);
  return row;
}

function svg(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Three bars per type: delivery rate, seen rate, click-through, each 0..100 %.
function drawChart(types) {
  const chart = byId('chart');
  for (const node of [...chart.children]) if (node.tagName !== 'title') node.remove();
  const label = 160;
  const width = 600;
  const bar = 12;
  const group = bar * 3 + 14;
  chart.setAttribute('viewBox', `0 0 ${label + width + 60} ${Math.max(group * types.length, group)}`);
  types.forEach((entry, index) => {
    const top = index * group;
    chart.append(svg('text', { x: 0, y: top + bar * 2, 'data-type': entry.type }, entry.type));
    if (entry.suppressed) {
      chart.append(svg('text', { x: label, y: top + bar * 2 }, HIDDEN));
      return;
    }
    [['delivery', entry.delivery_rate], ['seen', entry.seen_rate], ['opened', entry.click_through]].forEach(
      ([kind, value], row) => {
        const y = top + row * bar;
        const length = Math.round((value || 0) * width);
        chart.append(svg('rect', { x: label, y, width: length, height: bar - 2, class: kind, 'data-kind': kind }));
        chart.append(svg('text', { x: label + length + 4, y: y + bar - 3 }, percent(value)));
      },
    );
  });
}

function show(data) {
  const body = byId('table').tBodies[0];
  body.replaceChildren();
  for (const entry of data.types) {
    body.append(tableRow(entry.type, 'all', entry, true));
    for (const channel of entry.channels) body.append(tableRow(entry.type, channel.channel, channel, false));
  }
  body.append(tableRow('all', 'all', data.total, true));
  drawChart(data.types);
  byId('results').hidden = false;
  say(data.types.length ? '' : 'No notifications were created in this window.');
}

async function load() {
  const from = new Date(byId('from').value);
  const to = new Date(byId('to').value);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    say('Choose both times.');
    return;
  }
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  let response;
  try {
    response = await fetch(`${API}?${query}`, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    say('The service did not answer.');
    return;
  }
  const data = await response.json().catch(() => null);
  byId('signin').hidden = !(response.status === 401 || response.status === 403);
  if (response.ok) {
    show(data);
  } else if (response.status === 401) {
    say('Sign in with a token that holds the admin role.');
  } else if (response.status === 403) {
    say('This account is not an admin.');
  } else {
    const detail = data && data.detail;
    say(Array.isArray(detail) ? detail.map((item) => item.msg).join('; ') : String(detail || response.status));
  }
}

async function useToken(event) {
  event.preventDefault();
  const input = byId('admin-token');
  const error = byId('token-error');
  const token = input.value.trim();
  error.textContent = '';
  if (!token) return;
  let response;
  try {
    response = await fetch('/api/v1/session', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    error.textContent = 'The service did not answer.';
    return;
  }
  if (!response.ok) {
    error.textContent =
      response.status === 401 ? 'That token is not valid (or has expired).' : `HTTP ${response.status}`;
    return;
  }
  input.value = '';
  await load();
}

// Whether the development login would answer here, without logging in: a body it must refuse.
async function devLoginServed() {
  try {
    const response = await fetch('/api/v1/dev/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
      cache: 'no-store',
    });
    return response.status === 422;
  } catch {
    return false;
  }
}

async function devLogin() {
  const response = await fetch('/api/v1/dev/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: crypto.randomUUID(), admin: true }),
  });
  if (!response.ok) {
    say('The development login is not available here.');
    return;
  }
  await load();
}

const now = new Date();
byId('to').value = localValue(new Date(now.getTime() + 60000));
byId('from').value = localValue(new Date(now.getTime() - 7 * DAY_MS));
byId('window').addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
byId('dev-login').addEventListener('click', devLogin);
byId('token-form').addEventListener('submit', useToken);
devLoginServed().then((served) => {
  byId('dev-login-row').hidden = !served;
});
load();
