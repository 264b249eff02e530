// The video player: a modal <dialog> around an HTML5 <video>. Its page is /videos/<id>
// (router.js): `onClose` tells the app it was closed (by its button, Escape or `close()`).
import { byId, safeUrl } from '../dom.js';
import { duration } from '/client/time.js';

export function createPlayer({ onClose = () => {} } = {}) {
  const dialog = byId('player');
  const title = byId('player-title');
  const video = byId('player-video');
  const meta = byId('player-meta');
  const error = byId('player-error');
  let showing = null; // the src playing

  video.addEventListener('error', () => {
    if (video.getAttribute('src')) error.textContent = 'This video could not be loaded.';
  });
  dialog.addEventListener('close', () => {
    // Stop playback and the download when the dialog goes away.
    video.pause();
    video.removeAttribute('src');
    video.removeAttribute('poster');
    video.load();
    showing = null;
    onClose();
  });
  byId('player-close').addEventListener('click', () => dialog.close());

  return {
    /** item: {title, video_url, thumbnail_url, duration_seconds} (a payload or a request). */
    open(item) {
      const src = safeUrl(item.video_url);
      if (dialog.open && src && src === showing) return; // already playing: not from the start
      showing = src;
      title.textContent = item.title || 'Your video';
      meta.textContent = item.duration_seconds != null ? `Length ${duration(item.duration_seconds)}` : '';
      error.textContent = src ? '' : 'This video has no playable address.';
      const poster = safeUrl(item.thumbnail_url);
      if (poster) video.poster = poster;
      else video.removeAttribute('poster');
      if (src) video.src = src;
      if (!dialog.open) dialog.showModal();
      // Opened by a click, so playing with sound is allowed; a failure leaves the controls.
      if (src) video.play().catch(() => {});
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
