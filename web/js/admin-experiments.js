// The admin page's copy experiments (GET /api/v1/admin/experiments): each one's variants with
// their copy, delivered, seen and opened with rates and 95 % intervals, whether one is ahead on
// click-through, and buttons to stop it and to make a variant its type's default copy.
// Everything an admin or a payload wrote reaches the page as text only.
import { el } from './dom.js';
import { percent } from './admin-charts.js';

const API = '/api/v1/admin/experiments';
const METRICS = [
  ['delivered', 'Delivered', 'delivery_rate', 'of made'],
  ['seen', 'Seen', 'seen_rate', 'of made'],
  ['opened', 'Opened', 'click_through', 'of delivered'],
];
const points = (value) => `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value * 100).toFixed(1)}`;
const upper = (variant) => variant.toUpperCase();

function state(experiment) {
  if (experiment.winner) return `${upper(experiment.winner)} is the default`;
  if (experiment.running) return 'running';
  return 'stopped';
}

function metric(variant, [count, name, rate, of]) {
  const value = variant[rate];
  return el(
    'div',
    { className: 'metric', dataset: { metric: rate } },
    el('span', { className: 'metric-name', text: name }),
    el('span', { className: 'num', text: variant.suppressed ? '–' : String(variant[count]) }),
    el('span', { className: 'num rate', text: value ? percent(value.value) : '–', title: value ? `${of}` : null }),
    value
      ? el('span', {
          className: 'num ci',
          text: `${(value.low * 100).toFixed(1)}–${percent(value.high)}`,
          title: '95 % confidence interval (Wilson)',
        })
      : null,
  );
}

function verdict(experiment) {
  const c = experiment.comparison;
  if (!c) return 'Too few notifications to compare yet.';
  const range = `95 % CI ${points(c.low)} to ${points(c.high)} points, p = ${c.p_value.toFixed(3)}`;
  if (c.leader) return `${upper(c.leader)} is ahead on click-through: A − B = ${points(c.difference)} points (${range}).`;
  return `No winner yet: A − B = ${points(c.difference)} points on click-through (${range}).`;
}

function card(experiment, act) {
  const started = new Date(experiment.started_at).toLocaleString();
  const variants = experiment.variants.map((variant) =>
    el(
      'div',
      { className: 'variant', dataset: { variant: variant.variant } },
      el('p', { className: 'variant-name', text: `Variant ${upper(variant.variant)}` }),
      el('p', { className: 'copy-heading', text: variant.heading }),
      el('p', { className: 'copy-body', text: variant.body }),
      el('div', { className: 'metrics', title: variant.suppressed ? 'too few notifications to show' : null },
        ...METRICS.map((m) => metric(variant, m))),
    ),
  );
  const buttons = [];
  if (experiment.running) {
    buttons.push(el('button', { type: 'button', text: 'Stop', on: { click: () => act(experiment, 'stop') } }));
  }
  for (const variant of ['a', 'b']) {
    if (experiment.winner === variant) continue;
    buttons.push(
      el('button', {
        type: 'button',
        text: `Make ${upper(variant)} the default`,
        on: { click: () => act(experiment, 'winner', variant) },
      }),
    );
  }
  return el(
    'article',
    { className: 'experiment', dataset: { experiment: String(experiment.id) } },
    el(
      'header',
      { className: 'experiment-head' },
      el('h3', {}, el('span', { text: experiment.label }), ' ', el('span', { className: 'key', text: experiment.type })),
      el('span', { className: `state ${experiment.running ? 'running' : ''}`, text: state(experiment), tabindex: '-1' }),
    ),
    el('p', { className: 'muted', text: `Started ${started}` }),
    el('div', { className: 'variants' }, ...variants),
    el('p', { className: 'verdict', text: verdict(experiment) }),
    el('div', { className: 'row actions' }, ...buttons),
  );
}

// A 422's detail as "Variant A heading: must not be empty" lines (loc: body, a, heading).
function problems(detail) {
  if (!Array.isArray(detail)) return String(detail || 'The experiment was not started.');
  return detail
    .map((item) => {
      const [, part, field] = item.loc || [];
      const where = part === 'a' || part === 'b' ? `Variant ${upper(part)} ${field || ''}`.trim() : part || 'request';
      return `${where}: ${String(item.msg).replace(/^Value error, /, '')}`;
    })
    .join('\n');
}

/** The "New experiment" form: the registry's types to choose from, and POST on submit. */
export async function setUpForm(form, onStarted) {
  const select = form.querySelector('#exp-type');
  const response = await fetch('/api/v1/notifications/types', { credentials: 'same-origin' }).catch(() => null);
  if (response && response.ok) {
    const { types } = await response.json();
    select.replaceChildren(...types.map((type) => el('option', { value: type.name, text: `${type.label} (${type.name})` })));
  }
  const error = form.querySelector('#experiment-error');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (name) => form.elements.namedItem(name).value;
    const body = {
      type: select.value,
      a: { heading: value('a.heading'), body: value('a.body') },
      b: { heading: value('b.heading'), body: value('b.body') },
    };
    error.textContent = '';
    const started = await fetch(API, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }).catch(() => null);
    if (!started) {
      error.textContent = 'The service did not answer.';
      return;
    }
    if (!started.ok) {
      const data = await started.json().catch(() => null);
      error.textContent = problems(data && data.detail);
      return;
    }
    form.reset();
    form.closest('details').open = false;
    await onStarted();
  });
}

/** Show the experiments in `section` (its list: `.experiment-list`); `say` reports problems. */
export async function loadExperiments(section, say) {
  let response;
  try {
    response = await fetch(API, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    say('The service did not answer.');
    return;
  }
  if (!response.ok) {
    section.hidden = true;
    return;
  }
  const { experiments } = await response.json();
  const list = section.querySelector('.experiment-list');
  const act = async (experiment, action, variant) => {
    const init = { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' } };
    if (variant) init.body = JSON.stringify({ variant });
    const done = await fetch(`${API}/${experiment.id}/${action}`, init).catch(() => null);
    if (!done || !done.ok) say(done ? `Could not ${action === 'stop' ? 'stop' : 'choose'} it (HTTP ${done.status}).` : 'The service did not answer.');
    await loadExperiments(section, say);
    // The card was drawn again: keep the keyboard where it was (its first button, or its state).
    const again = list.querySelector(`[data-experiment="${experiment.id}"]`);
    const target = again && (again.querySelector('.actions button') || again.querySelector('.state'));
    if (target) target.focus();
  };
  list.replaceChildren(...experiments.map((experiment) => card(experiment, act)));
  section.querySelector('.empty').hidden = experiments.length > 0;
  section.hidden = false;
}
