// <time> elements that say "5 minutes ago" and keep saying the truth.
import { el } from '../dom.js';
import { fullTime, timeAgo } from '/client/time.js';

export function timeEl(iso, className = 'time') {
  return el('time', { className, datetime: iso, title: fullTime(iso), dataset: { relative: '' }, text: timeAgo(iso) });
}

/** Rewrite every relative time on the page (called once a minute). */
export function refreshTimes(root = document) {
  for (const node of root.querySelectorAll('time[data-relative]')) {
    node.textContent = timeAgo(node.getAttribute('datetime'));
  }
}
