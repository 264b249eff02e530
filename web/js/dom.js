// Tiny DOM helpers. Data only ever reaches the page as text nodes or attribute values:
// nothing here parses HTML.

/**
 * Build an element. `props`: `text` (textContent), `className`, `on` ({event: handler}),
 * `dataset`, and any other key as an attribute (`true` sets an empty attribute; null,
 * undefined and false are skipped). Children are nodes or strings (appended as text).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** The element with this id (throws early when the page and the code disagree). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/**
 * Put `nodes` into `parent` in this order, moving only nodes that are out of place, so a
 * focused button inside an unchanged item keeps its focus. Other children are removed.
 */
export function placeChildren(parent, nodes) {
  nodes.forEach((node, index) => {
    const current = parent.children[index];
    if (current !== node) parent.insertBefore(node, current ?? null);
  });
  while (parent.children.length > nodes.length) parent.lastElementChild.remove();
}

/**
 * A same-origin http(s) URL (resolved against the page) or null: the server's media URLs go
 * into `src`/`poster`; `javascript:`, `data:` and other origins have no business there.
 */
export function safeUrl(value) {
  if (typeof value !== 'string' || value === '') return null;
  try {
    const url = new URL(value, window.location.href);
    const web = url.protocol === 'http:' || url.protocol === 'https:';
    return web && url.origin === window.location.origin ? url.href : null;
  } catch {
    return null;
  }
}
