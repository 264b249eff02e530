// "By email" in the preferences: the student's email digest (the client package's digest.js).
// Address and period, saved with a double opt-in: until the mailed link is followed the section
// says to check the inbox and offers to send it again. Shows why the last digest was not sent,
// and "Turn off" forgets the address. Turned off with the address kept (the email's unsubscribe
// link, or saved off), it says so, and when if the server knows, and that Save turns it back on;
// "Turn off" is not offered while it is off. A server that sends no email (SMTP_HOST unset) gets one
// line saying so. Server text reaches the page only as textContent.
import { byId } from '../dom.js';
import {
  digestPreference,
  resendDigestConfirmation,
  setDigest,
  stopDigest,
} from '/client/digest.js';

const PERIOD_TEXT = { hourly: 'An hourly', daily: 'A daily', weekly: 'A weekly' };

// The browser's IANA time zone, which the digest dates its rows in; undefined if it names none.
function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
  } catch {
    return undefined;
  }
}

// When the digest was turned off, in the student's own time ("Mon 7 Dec, 13:47").
function turnedOff(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return null;
  const date = moment.toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
  const time = moment.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `${date}, ${time}`;
}

function offText(preference) {
  const when = preference.opted_out_at ? turnedOff(preference.opted_out_at) : null;
  const off = when
    ? `The email digest to ${preference.email} was turned off on ${when}.`
    : 'The digest is off.';
  return `${off} Save turns it back on.`;
}

function minutes(seconds) {
  const count = Math.max(1, Math.ceil(seconds / 60));
  return count === 1 ? '1 minute' : `${count} minutes`;
}

export function createDigestPrefs() {
  const form = byId('prefs-form');
  const unavailable = byId('prefs-email-unavailable');
  const controls = byId('prefs-email-controls');
  const address = byId('prefs-email-address');
  const period = byId('prefs-email-period');
  const save = byId('prefs-email-save');
  const resend = byId('prefs-email-resend');
  const stop = byId('prefs-email-stop');
  const state = byId('prefs-email-state');
  const lastError = byId('prefs-email-last-error');
  const error = byId('prefs-email-error');
  const buttons = [save, resend, stop];

  function showUnavailable() {
    unavailable.hidden = false;
    controls.hidden = true;
  }

  function show(preference) {
    if (!preference.available) {
      showUnavailable();
      return;
    }
    unavailable.hidden = true;
    controls.hidden = false;
    address.value = preference.email || '';
    period.value = preference.period;
    const on = Boolean(preference.email && preference.opted_in);
    const waiting = on && !preference.confirmed;
    // Hard bounces suspended the address: nothing is sent until the student saves it again.
    const suspended = on && !waiting && Boolean(preference.suspended);
    controls.dataset.state = !on
      ? 'off'
      : waiting
        ? 'unconfirmed'
        : suspended
          ? 'suspended'
          : 'confirmed';
    resend.hidden = !waiting;
    stop.hidden = !on; // nothing to turn off while it is off
    if (!preference.email) state.textContent = 'No email digest.';
    else if (!on) state.textContent = offText(preference);
    else if (waiting) {
      state.textContent = `Check your inbox at ${preference.email} and follow the link to confirm: digests start once the address is confirmed.`;
    } else if (suspended) {
      state.textContent = `Digests to ${preference.email} are paused: the mail server refused this address several times in a row. Check it and Save to start again.`;
    } else {
      state.textContent = `${PERIOD_TEXT[preference.period] || 'A'} digest goes to ${preference.email}.`;
    }
    lastError.textContent = suspended
      ? `The mail server said: ${preference.suspended_reason || 'no such address'}`
      : preference.last_error
        ? `Not sent: ${preference.last_error}`
        : '';
    if (preference.confirmation_error) {
      error.textContent = `The confirmation email was not sent: ${preference.confirmation_error}`;
    }
  }

  function report(failure) {
    if (failure && failure.unavailable) showUnavailable();
    else if (failure && failure.status === 429 && failure.retryAfter !== null) {
      // Beyond 10 minutes it is the address's daily limit: the server's sentence says so.
      error.textContent =
        failure.retryAfter > 600
          ? `The confirmation email was not sent: ${failure.detail}.`
          : `A confirmation email was sent recently: try again in ${minutes(failure.retryAfter)}.`;
    } else error.textContent = (failure && failure.message) || String(failure);
  }

  async function act(work) {
    error.textContent = '';
    for (const button of buttons) button.disabled = true;
    try {
      await work();
    } catch (failure) {
      report(failure);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  // The save button is the form's submit button: Enter in the address saves, and the dialog's
  // form never navigates.
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (controls.hidden) return;
    if (!address.value.trim()) {
      error.textContent = 'Enter an email address.';
      return;
    }
    const preference = { email: address.value.trim(), period: period.value, timeZone: timeZone() };
    act(async () => show(await setDigest(preference)));
  });
  resend.addEventListener('click', () =>
    act(async () => {
      show(await resendDigestConfirmation());
      if (!error.textContent) state.textContent = `${state.textContent} A new link was sent.`;
    }),
  );
  stop.addEventListener('click', () =>
    act(async () => {
      await stopDigest();
      show(await digestPreference());
    }),
  );

  return {
    /** Read the preference again (on opening the preferences). */
    refresh() {
      error.textContent = '';
      return act(async () => show(await digestPreference()));
    },
  };
}
