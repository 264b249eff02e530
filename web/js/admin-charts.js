// The admin page's two charts, drawn as inline SVG at the width they are shown at (so their
// text stays 12 px on a phone): the window over time (created, delivered, seen and opened per
// hour or day, one line each, told apart by dash and marker too) and the rates per type (bars). Data reaches the SVG only as text
// nodes and attribute values. Each chart is an image with a title and a description; the
// numbers are also in a table (the series) or in the table beside it (the types).
const SVG = 'http://www.w3.org/2000/svg';
export const SERIES = ['created', 'delivered', 'seen', 'opened'];
export const HIDDEN = 'too few notifications to show';
// Lines that coincide (every notification delivered: made = delivered) must stay apart: each
// series has its own dash pattern (admin.css) and marker shape, the legend's keys drawn alike;
// "made", a dashed line with rings, is drawn last, over the others.
const DRAW_ORDER = ['delivered', 'seen', 'opened', 'created'];
const SHAPES = { created: 'ring', delivered: 'dot', seen: 'square', opened: 'diamond' };

/** The marker of a `kind`'s point at (cx, cy), of class `point` with its `data-shape`. */
export function marker(kind, cx, cy) {
  const shape = SHAPES[kind];
  const attributes = { class: 'point', 'data-shape': shape };
  if (shape === 'square') return svg('rect', { ...attributes, x: (cx - 3.5).toFixed(1), y: (cy - 3.5).toFixed(1), width: 7, height: 7 });
  if (shape === 'diamond') {
    const at = (dx, dy) => `${(cx + dx).toFixed(1)},${(cy + dy).toFixed(1)}`;
    return svg('polygon', { ...attributes, points: [at(0, -5), at(5, 0), at(0, 5), at(-5, 0)].join(' ') });
  }
  return svg('circle', { ...attributes, cx: cx.toFixed(1), cy: cy.toFixed(1), r: shape === 'ring' ? 5 : 3 });
}

export const percent = (value) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)}\u00a0%`);

export function svg(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(chart) {
  for (const node of [...chart.children]) if (node.tagName !== 'title' && node.tagName !== 'desc') node.remove();
}

/** When a point starts, in words: "Dec 3" for a day, "Dec 3, 14:00" for an hour (local time). */
export function pointLabel(at, bucket) {
  const date = new Date(at);
  const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (bucket === 'day') return day;
  return `${day}, ${date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
}

// Under the x axis: the day, or the hour (the table and each point's title name both).
function axisLabel(at, bucket) {
  const date = new Date(at);
  return bucket === 'day'
    ? date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

// A round step for about `ticks` gridlines up to `top`.
function niceStep(top, ticks) {
  const raw = Math.max(top / ticks, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step;
}

/** Lines of `series.points` (created, delivered, seen, opened) in `chart` (an <svg>). */
export function drawSeries(chart, series) {
  clear(chart);
  const width = Math.max(Math.round(chart.getBoundingClientRect().width) || 600, 240);
  const height = width < 500 ? 200 : 240;
  const pad = { left: 44, right: 12, top: 12, bottom: 26 };
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('height', String(height));
  const points = series.points;
  const shown = points.filter((p) => !p.suppressed);
  const top = Math.max(1, ...shown.map((p) => p.created));
  const step = niceStep(top, 4);
  const ceiling = Math.ceil(top / step) * step;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (i) => pad.left + (points.length > 1 ? (i * plotW) / (points.length - 1) : plotW / 2);
  const y = (v) => pad.top + plotH - (v * plotH) / ceiling;

  const grid = svg('g', { class: 'grid' });
  for (let v = 0; v <= ceiling; v += step) {
    grid.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }));
    grid.append(svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const every = Math.max(1, Math.ceil(points.length / Math.floor(plotW / 70)));
  points.forEach((point, i) => {
    if (i % every !== 0) return;
    grid.append(svg('text', { x: x(i), y: height - 8, 'text-anchor': 'middle' }, axisLabel(point.at, series.bucket)));
  });
  chart.append(grid);

  for (const kind of DRAW_ORDER) {
    const group = svg('g', { class: `series ${kind}`, 'data-series': kind });
    // One line per run of shown points: a suppressed point leaves a gap.
    let path = '';
    let pen = 'M';
    points.forEach((point, i) => {
      if (point.suppressed) {
        pen = 'M';
        return;
      }
      path += `${pen}${x(i).toFixed(1)},${y(point[kind]).toFixed(1)} `;
      pen = 'L';
    });
    if (path) group.append(svg('path', { class: 'line', d: path.trim() }));
    points.forEach((point, i) => {
      if (point.suppressed) return;
      const dot = marker(kind, x(i), y(point[kind]));
      dot.setAttribute('data-at', point.at);
      dot.append(svg('title', {}, `${pointLabel(point.at, series.bucket)}: ${point[kind]} ${kind}`));
      group.append(dot);
    });
    chart.append(group);
  }
}

/** The same numbers as a table (the chart's text alternative). */
export function fillSeriesTable(table, series) {
  const body = table.tBodies[0];
  body.replaceChildren();
  table.tHead.rows[0].cells[0].textContent = series.bucket === 'hour' ? 'Hour' : 'Day';
  for (const point of series.points) {
    const row = document.createElement('tr');
    const when = document.createElement('th');
    when.scope = 'row';
    when.textContent = pointLabel(point.at, series.bucket);
    row.append(when);
    for (const kind of DRAW_ORDER) {
      const cell = document.createElement('td');
      cell.textContent = point.suppressed ? '–' : String(point[kind]);
      if (point.suppressed) cell.title = HIDDEN;
      row.append(cell);
    }
    body.append(row);
  }
}

/** Three bars per type (delivery rate, seen rate, click-through), each 0..100 %. */
export function drawTypes(chart, types) {
  clear(chart);
  const width = Math.max(Math.round(chart.getBoundingClientRect().width) || 600, 240);
  const narrow = width < 500;
  const label = narrow ? 0 : 190; // on a phone the label sits above its bars
  const bar = 12;
  const group = bar * 3 + (narrow ? 32 : 14);
  const room = width - label - 64;
  chart.setAttribute('viewBox', `0 0 ${width} ${Math.max(group * types.length, group)}`);
  chart.setAttribute('height', String(Math.max(group * types.length, group)));
  types.forEach((entry, index) => {
    const top = index * group + (narrow ? 18 : 0);
    const name = svg('text', { x: 0, y: narrow ? top - 5 : top + bar * 2, 'data-type': entry.type }, entry.label || entry.type);
    chart.append(name);
    if (entry.suppressed) {
      chart.append(svg('text', { x: label, y: top + bar * 2 }, HIDDEN));
      return;
    }
    [['delivery', entry.delivery_rate], ['seen', entry.seen_rate], ['opened', entry.click_through]].forEach(
      ([kind, value], row) => {
        const y = top + row * bar;
        const length = Math.round((value || 0) * room);
        chart.append(svg('rect', { x: label, y, width: length, height: bar - 2, class: kind, 'data-kind': kind }));
        chart.append(svg('text', { x: label + length + 4, y: y + bar - 3 }, percent(value)));
      },
    );
  });
}
