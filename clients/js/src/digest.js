// The email digest preference of the signed-in student (`/api/v1/digest/preferences`).
//
// - `digestPreference()`: the preference (defaults when none was set). `available: false` when
//   the server sends no email (SMTP_HOST unset).
// - `setDigest({email, period, optedIn, timeZone})`: opt in (or keep the address, sending
//   nothing, with `optedIn: false`); `timeZone` (an IANA name) dates the digest's rows, the
//   stored one kept when omitted. A new address is mailed a confirmation link and gets digests only once
//   `confirmed`. `confirmation_error` says why that email was not sent.
// - `resendDigestConfirmation()`: mail the link again; at most once per 10 minutes.
// - `stopDigest()`: stop the digest and forget the address.
// Failures reject with a `DigestError`: `status` (0: no answer), `detail` (the server's words),
// `retryAfter` (seconds, on 429), `unavailable` (409 because the server sends no email).
// Options: `apiBase` (default: this origin), `fetch`. Requests carry the session cookie
// (`credentials: 'include'`); `getToken` adds `Authorization: Bearer` when it returns one.

import { detailOf, send } from './http.js';

const PATH = '/digest/preferences';
const OFF = 'email digests are off on this server';

export class DigestError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(detail);
    this.name = 'DigestError';
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
    this.unavailable = status === 409 && detail.startsWith(OFF);
  }
}

async function call(options, method, suffix = '', body) {
  let answer;
  try {
    answer = await send(options, method, `${PATH}${suffix}`, body);
  } catch (error) {
    throw new DigestError(0, `network error: ${error && error.message}`);
  }
  const { response, json } = answer;
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    throw new DigestError(response.status, detailOf(json, response.status), Number.isFinite(retry) ? retry : null);
  }
  return json;
}

export function digestPreference(options = {}) {
  return call(options, 'GET');
}

export function setDigest({ email, period, optedIn = true, timeZone }, options = {}) {
  const body = { email, period, opted_in: optedIn };
  if (timeZone) body.time_zone = timeZone;
  return call(options, 'PUT', '', body);
}

export function resendDigestConfirmation(options = {}) {
  return call(options, 'POST', '/confirmation');
}

export async function stopDigest(options = {}) {
  await call(options, 'DELETE');
}
