// Which view of the main content shows: every request (`home`), one request on its own page
// (`request`: "All requests" leads back, "Ask a question" and the other rows are hidden), or
// why a request's page shows none (`missing`: "This request is not in your account").
import { byId } from '../dom.js';
import { displayName } from './header.js';

const TITLES = { home: 'Vividly', request: 'Your request · Vividly' };
// The page for nothing to show, by what the address named (`/videos/…` or `/requests/…`).
const MISSING = {
  request: { title: 'Request not found · Vividly', lost: 'This request is not in your account', failed: 'This request could not be opened' },
  video: { title: 'Video not found · Vividly', lost: 'This video is not in your account', failed: 'This video could not be opened' },
};

/**
 * onBack(): "All requests" was followed (a plain click: a new tab or window opens `/` itself);
 * onTitle(text): the document's title for the view; onSwitch(): "Sign in with another account"
 * (the page's address stays, so the right student lands on it).
 */
export function createSubjectView({ onBack, onTitle, onSwitch }) {
  const main = byId('content');
  const nav = byId('subject-nav');
  const back = byId('subject-back');
  const ask = byId('ask-card');
  const requestsCard = byId('requests-card');
  const requestsTitle = byId('requests-title');
  const missing = byId('subject-missing');
  const missingTitle = byId('subject-missing-title');
  const missingText = byId('subject-missing-text');
  const switchAccount = byId('subject-switch');
  switchAccount.addEventListener('click', () => onSwitch());

  back.addEventListener('click', (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    onBack();
  });

  function set(view, title = TITLES[view]) {
    main.dataset.view = view;
    nav.hidden = view === 'home';
    ask.hidden = view !== 'home';
    requestsCard.hidden = view === 'missing';
    missing.hidden = view !== 'missing';
    requestsTitle.textContent = view === 'request' ? 'Your request' : 'My requests';
    onTitle(title);
  }

  return {
    home: () => set('home'),
    /** The video in the player: the tab names it. */
    video: (item) => onTitle(`${item.title || 'Your video'} · Vividly`),
    request: () => set('request'),
    /**
     * No request to show: `error` is the API's (404: not this student's, or no UUID at all:
     * null), `me` who is signed in (/me's answer: a link for another account is the usual
     * reason), `kind` what the address named: 'request' or 'video'.
     */
    missing(error, me, kind = 'request') {
      const words = MISSING[kind] || MISSING.request;
      set('missing', words.title);
      const lost = !error || error.status === 404 || error.status === 422;
      missingTitle.textContent = lost ? words.lost : words.failed;
      missingText.textContent = lost
        ? `You are signed in as ${displayName(me)}: the link may be for another account, or for a request that no longer exists.`
        : `${error.message || 'The server did not answer'}. Reload the page to try again.`;
      switchAccount.hidden = !lost;
      missingTitle.focus();
    },
  };
}
