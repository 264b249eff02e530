// @vividly/notifications-client/digest: the student's email digest preference (src/digest.js).

export type DigestPeriod = 'hourly' | 'daily' | 'weekly';

export interface DigestPreference {
  /** Whether this server sends email at all (SMTP_HOST set). */
  available: boolean;
  email: string | null;
  period: DigestPeriod;
  opted_in: boolean;
  /** ISO time of the next digest, null when off. */
  next_digest_at: string | null;
  last_sent_at: string | null;
  /** Why the latest digest has not been sent (yet), e.g. the address was refused. */
  last_error: string | null;
  /** Digests go only to a confirmed address (the link mailed to it was followed). */
  confirmed: boolean;
  confirmation_sent_at: string | null;
  /** Digests to the address are suspended: the mail server refused it for good several times
   * in a row (DIGEST_BOUNCE_LIMIT). Saving the preference again (or confirming) lifts it. */
  suspended: boolean;
  /** Why, e.g. "recipient refused: 550 5.1.1 No such user"; null when not suspended. */
  suspended_reason: string | null;
  /** The student's language as stored (a BCP 47 tag), if known. */
  locale?: string | null;
  /** The student's time zone as stored (an IANA name): the digest's dates are in it. */
  time_zone?: string | null;
  /** ISO time the digest was turned off (unsubscribe link, or saved off); null while on or
   * when not known. */
  opted_out_at?: string | null;
  /** Why the confirmation email just asked for was not sent (answers to set/resend only). */
  confirmation_error?: string | null;
}

export interface DigestOptions {
  /** Where the API is; default: this origin. */
  apiBase?: string;
  /** A bearer token to send (besides the session cookie). */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  fetch?: typeof fetch;
}

export class DigestError extends Error {
  /** The HTTP status; 0 when no answer came. */
  status: number;
  /** The server's `detail`. */
  detail: string;
  /** Seconds to wait before asking again (429 on resend), else null. */
  retryAfter: number | null;
  /** 409: this server sends no email digests. */
  unavailable: boolean;
}

/** The preference (defaults when the student never set one). */
export function digestPreference(options?: DigestOptions): Promise<DigestPreference>;
/** Opt in (`optedIn` defaults to true); a new address is mailed a confirmation link. */
export function setDigest(
  preference: { email: string; period: DigestPeriod; optedIn?: boolean; timeZone?: string },
  options?: DigestOptions,
): Promise<DigestPreference>;
/** Mail the confirmation link again (429 within 10 minutes, 409 when nothing to confirm). */
export function resendDigestConfirmation(options?: DigestOptions): Promise<DigestPreference>;
/** Stop the digest and forget the address. */
export function stopDigest(options?: DigestOptions): Promise<void>;
