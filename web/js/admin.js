// The admin page: GET /api/v1/admin/analytics for a window, as charts (admin-charts.js) and a
// table, and the copy experiments (admin-experiments.js). Data is written with textContent and
// SVG attributes only (the page's CSP allows no inline style or script). The session cookie
// authenticates; without an admin role the API says 403.
// Signing in: a pasted token is exchanged for the cookie (POST /api/v1/session with it as the
// Bearer); the development login's button shows only where that login answers (GET
// /api/v1/session says so, and whether the visitor is signed in: no request fails at load).
// Types are shown by their registry label, their key beside it in smaller text. On a narrow
// screen each table row is a small card of "name: value" lines (admin.css), so nothing scrolls
// sideways; numbers never break inside.
import { HIDDEN, drawSeries, drawTypes, fillSeriesTable, percent } from './admin-charts.js';
import { loadExperiments, setUpForm } from './admin-experiments.js';

const API = '/api/v1/admin/analytics';
const DAY_MS = 24 * 3600 * 1000;
const COLUMNS = ['Type', 'Channel', 'Created', 'Delivered', 'Delivery rate', 'p50 s', 'p95 s', 'Seen rate', 'Click-through'];

const byId = (id) => document.getElementById(id);
const seconds = (value) => (value === null || value === undefined ? '–' : value.toFixed(2));
const count = (value) => (value === null || value === undefined ? '–' : value);
let formReady = false; // the experiment form is set up once, after the first admin answer
let shown = null; // the last answer, drawn again when the page's width changes

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

function cell(row, text, column) {
  const td = document.createElement('td');
  td.dataset.label = COLUMNS[column];
  if (typeof text === 'string' || typeof text === 'number') td.textContent = String(text);
  else td.append(...text);
  if (column >= 2) td.classList.add('num');
  row.append(td);
}

// A type's label, with its key as smaller secondary text (and as the tooltip).
function typeName(entry) {
  if (entry === null) return 'All types';
  const label = document.createElement('span');
  label.className = 'type-label';
  label.textContent = entry.label || entry.type;
  const key = document.createElement('span');
  key.className = 'key';
  key.textContent = entry.type;
  return [label, ' ', key];
}

function tableRow(entry, channel, r, isTotal) {
  const row = document.createElement('tr');
  if (isTotal) row.classList.add('type-total');
  else row.classList.add('channel-row');
  if (r.suppressed) {
    row.classList.add('suppressed');
    row.title = HIDDEN;
  }
  row.dataset.type = entry ? entry.type : 'all';
  row.dataset.channel = channel;
  [
    isTotal ? typeName(entry) : entry.label || entry.type, channel, count(r.created), count(r.delivered),
    percent(r.delivery_rate), seconds(r.time_to_deliver_p50_seconds), seconds(r.time_to_deliver_p95_seconds),
    percent(r.seen_rate), percent(r.click_through),
  ].forEach((value, column) => cell(row, value, column));
  return row;
}

function draw() {
  if (!shown) return;
  drawSeries(byId('series-chart'), shown.series);
  drawTypes(byId('chart'), shown.types);
}

function show(data) {
  const body = byId('table').tBodies[0];
  body.replaceChildren();
  for (const entry of data.types) {
    body.append(tableRow(entry, 'all', entry, true));
    for (const channel of entry.channels) body.append(tableRow(entry, channel.channel, channel, false));
  }
  body.append(tableRow(null, 'all', data.total, true));
  fillSeriesTable(byId('series-table'), data.series);
  shown = data;
  byId('results').hidden = false; // before drawing: the charts take the width they are shown at
  draw();
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
    await loadExperiments(byId('experiments'), say);
    if (!formReady) {
      formReady = true;
      await setUpForm(byId('experiment-form'), () => loadExperiments(byId('experiments'), say));
    }
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

// Signed in, as an admin, and whether the development login answers here: GET /api/v1/session
// always answers 200, so a signed-out visit logs no error.
async function sessionState() {
  try {
    const response = await fetch('/api/v1/session', { credentials: 'same-origin', cache: 'no-store' });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
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

// The last 7 days up to the next whole hour: whole days, so each day of the chart is a full one.
const HOUR_MS = 3600 * 1000;
const end = new Date(Math.ceil((Date.now() + 60000) / HOUR_MS) * HOUR_MS);
byId('to').value = localValue(end);
byId('from').value = localValue(new Date(end.getTime() - 7 * DAY_MS));
byId('window').addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
byId('dev-login').addEventListener('click', devLogin);
byId('token-form').addEventListener('submit', useToken);
// Drawn again at the new width (text in the charts stays the same size).
let drawn = 0;
new ResizeObserver(() => {
  const width = byId('results').clientWidth;
  if (width !== drawn) {
    drawn = width;
    draw();
  }
}).observe(byId('results'));
sessionState().then((state) => {
  byId('dev-login-row').hidden = !(state && state.dev_login);
  if (state && !state.signed_in) {
    byId('signin').hidden = false;
    say('Sign in with a token that holds the admin role.');
  } else if (state && !state.admin) {
    byId('signin').hidden = false;
    say('This account is not an admin.');
  } else load();
});
