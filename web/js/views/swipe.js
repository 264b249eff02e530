// Swiping a toast or a panel row sideways on a touch screen.
//
// Pointer events from a finger or a pen only (a mouse drags text, it does not swipe). The CSS
// gives swipeable nodes `touch-action: pan-y`, so the browser keeps vertical scrolling and
// hands horizontal moves to us. While it moves the node follows the finger (`--swipe-x`) and
// says which action a release would take (`data-swipe="left|right"`, for the CSS to show it).
// A swipe is never also a tap: the click a browser may send after it is swallowed. A finger
// that starts on a text field (an answer being typed) selects text or moves the caret there: no
// swipe starts from it (and app.css stops the browser's own sideways overscroll, swipe-back).

const START_PX = 10; // less than this is a tap, not a swipe
const MIN_PX = 64; // a swipe acts once this far, or THRESHOLD of the node's width if wider
const THRESHOLD = 0.3;
const CLICK_AFTER_MS = 500;
const TEXT_FIELD = 'textarea, input, select, [contenteditable]';

/** `left()` / `right()`: what a swipe that way does (leave one out: that way does nothing). */
export function swipeable(node, { left = null, right = null } = {}) {
  let gesture = null;
  let swallowUntil = 0;

  function reset() {
    node.classList.remove('swiping');
    node.style.removeProperty('--swipe-x');
    delete node.dataset.swipe;
  }

  node.addEventListener('pointerdown', (event) => {
    if (event.pointerType === 'mouse' || !event.isPrimary) return;
    if (event.target instanceof Element && event.target.closest(TEXT_FIELD)) return;
    gesture = { id: event.pointerId, x: event.clientX, y: event.clientY, dx: 0, moving: false };
  });

  node.addEventListener('pointermove', (event) => {
    if (!gesture || event.pointerId !== gesture.id) return;
    const dx = event.clientX - gesture.x;
    const dy = event.clientY - gesture.y;
    if (!gesture.moving) {
      if (Math.abs(dx) < START_PX) return;
      if (Math.abs(dy) > Math.abs(dx)) {
        gesture = null; // a scroll
        return;
      }
      gesture.moving = true;
      node.classList.add('swiping');
      if (node.setPointerCapture) node.setPointerCapture(event.pointerId);
    }
    const allowed = dx < 0 ? left : right;
    gesture.dx = allowed ? dx : 0;
    node.style.setProperty('--swipe-x', `${gesture.dx}px`);
    if (allowed) node.dataset.swipe = dx < 0 ? 'left' : 'right';
    else delete node.dataset.swipe;
  });

  function end(event) {
    if (!gesture || event.pointerId !== gesture.id) return;
    const { dx, moving } = gesture;
    gesture = null;
    reset();
    if (!moving) return;
    swallowUntil = Date.now() + CLICK_AFTER_MS;
    if (event.type === 'pointercancel') return;
    if (Math.abs(dx) >= Math.max(MIN_PX, node.offsetWidth * THRESHOLD)) {
      const act = dx < 0 ? left : right;
      if (act) act();
    }
  }
  node.addEventListener('pointerup', end);
  node.addEventListener('pointercancel', end);
  node.addEventListener(
    'click',
    (event) => {
      if (Date.now() < swallowUntil) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );
}
