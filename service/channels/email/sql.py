"""SQL of the email digest channel: preferences, double opt-in and its limits, the outbox."""

from db.fragments import UNREAD

from ...notifications.deliveries import CHANNEL as STREAM
from ...notifications.sql import REQUEST_OF_NOTIFICATION

# A student's preference with how their latest digest went; no row when they never set one.
# $1 user.
DIGEST_PREFERENCE = """
SELECT p.address, p.period, p.opted_in, p.next_digest_at, p.confirmed_at, p.confirmation_sent_at,
       p.suspended_at, p.suspended_reason, p.locale, p.time_zone, p.opted_out_at,
       (SELECT d.sent_at FROM email_digests d WHERE d.user_id = $1 AND d.state = 'sent'
        ORDER BY d.id DESC LIMIT 1) AS last_sent_at,
       (SELECT CASE WHEN d.state <> 'sent' THEN d.last_error END FROM email_digests d
        WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 1) AS last_error
FROM email_digest_preferences p WHERE p.user_id = $1
"""

# Opting in (again) starts the clock: nothing created before `opted_in_at` is ever mailed, and
# the next digest comes one period later. A new period restarts the wait from now, so two digests
# are always at least one period apart; a new address alone changes neither, but it must be
# confirmed again (`confirmed_at` cleared). The limits on confirmation emails are not here but in
# their own log (CONFIRMATION_WAIT), which no change of preference touches.
# The language and time zone are kept when not given again.
# $1 user, $2 address, $3 period, $4 opted in, $5 the period's length in seconds, $6 locale,
# $7 time zone.
SET_DIGEST_PREFERENCE = """
INSERT INTO email_digest_preferences AS p
    (user_id, address, period, opted_in, opted_in_at, next_digest_at, locale, time_zone,
     opted_out_at)
VALUES ($1, $2, $3, $4, now(), now() + make_interval(secs => $5), $6, $7,
        CASE WHEN $4 THEN NULL ELSE now() END)
ON CONFLICT (user_id) DO UPDATE SET
    address = EXCLUDED.address,
    locale = COALESCE(EXCLUDED.locale, p.locale),
    time_zone = COALESCE(EXCLUDED.time_zone, p.time_zone),
    confirmed_at = CASE WHEN p.address = EXCLUDED.address THEN p.confirmed_at END,
    period = EXCLUDED.period,
    opted_in = EXCLUDED.opted_in,
    opted_out_at = CASE WHEN EXCLUDED.opted_in THEN NULL
                        WHEN p.opted_in THEN now() ELSE p.opted_out_at END,
    opted_in_at = CASE WHEN p.opted_in OR NOT EXCLUDED.opted_in THEN p.opted_in_at ELSE now() END,
    next_digest_at = CASE WHEN p.opted_in AND p.period = EXCLUDED.period THEN p.next_digest_at
                          ELSE EXCLUDED.next_digest_at END,
    hard_bounces = 0, suspended_at = NULL, suspended_reason = NULL,
    updated_at = now()
"""

DELETE_DIGEST_PREFERENCE = "DELETE FROM email_digest_preferences WHERE user_id = $1"

# With the preference go the errors and replies that may quote the address (a refused
# recipient's reply, an acceptance naming it).
FORGET_DIGEST_ERRORS = """
UPDATE email_digests
SET last_error = NULL, smtp_reply = CASE WHEN smtp_reply IS NOT NULL THEN 'accepted' END
WHERE user_id = $1 AND (last_error IS NOT NULL OR smtp_reply IS NOT NULL)
"""

# Double opt-in (confirmation.py). The address a confirmation would go to now: the student's,
# opted in and unconfirmed. $1 user.
CONFIRMATION_ADDRESS = """
SELECT address FROM email_digest_preferences
WHERE user_id = $1 AND opted_in AND confirmed_at IS NULL
"""

# One holder at a time of a confirmation limit's key (the student's, then the address's), to the
# end of the transaction: two requests cannot both see room for one more email.
LOCK_CONFIRMATION_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"

# How long until another confirmation may be mailed: by this student ($1) at most one per $3
# seconds whatever the address, to this address ($2, its mailbox key) at most $5 per $4 seconds
# whoever asks. 0 when it may be now. Counted from the sends log (migration 0016).
CONFIRMATION_WAIT = """
WITH student AS (
    SELECT max(sent_at) AS last FROM email_confirmation_sends WHERE user_id = $1
), address AS (
    SELECT count(*) AS sent, min(sent_at) AS oldest FROM email_confirmation_sends
    WHERE address_key = $2 AND sent_at > now() - make_interval(secs => $4)
)
SELECT greatest(coalesce(extract(epoch FROM
           student.last + make_interval(secs => $3) - now()), 0), 0)::float8 AS student_wait,
       CASE WHEN address.sent >= $5 THEN greatest(extract(epoch FROM
           address.oldest + make_interval(secs => $4) - now()), 0)::float8 ELSE 0 END
           AS address_wait
FROM student, address
"""

# A confirmation is being mailed now: logged (what the limits count) and shown on the
# preference; sends too old to count for anything ($3 seconds) go. $1 user, $2 mailbox key.
RECORD_CONFIRMATION_SEND = """
WITH logged AS (
    INSERT INTO email_confirmation_sends (user_id, address_key) VALUES ($1, $2)
), pruned AS (
    DELETE FROM email_confirmation_sends WHERE sent_at < now() - make_interval(secs => $3)
)
UPDATE email_digest_preferences SET confirmation_sent_at = now() WHERE user_id = $1
"""

# The link was followed (POST), for the address it was mailed to. $1 user.
CONFIRM_DIGEST_ADDRESS = """
UPDATE email_digest_preferences
SET confirmed_at = now(), hard_bounces = 0, suspended_at = NULL, suspended_reason = NULL,
    updated_at = now()
WHERE user_id = $1 AND confirmed_at IS NULL
"""

# For the unsubscribe and confirmation links: the address it must have been mailed to. $1 user.
DIGEST_ADDRESS_FOR_UPDATE = """
SELECT address, opted_in, confirmed_at IS NOT NULL AS confirmed
FROM email_digest_preferences WHERE user_id = $1 FOR UPDATE
"""

UNSUBSCRIBE_DIGEST = """
UPDATE email_digest_preferences
SET opted_in = false, updated_at = now(),
    opted_out_at = CASE WHEN opted_in THEN now() ELSE opted_out_at END
WHERE user_id = $1
"""

# A digest not yet handed to the SMTP server is not sent once its student opted out or left.
# ($1 user, $2 why). One being sent right now is checked again by its sender. Its notifications
# are released (free for a later digest), as when any digest ends unsent (DIGEST_END).
CANCEL_OPEN_DIGESTS = """
WITH ended AS (
    UPDATE email_digests SET state = 'cancelled', last_error = $2, claimed_by = NULL
    WHERE user_id = $1 AND state = 'pending'
    RETURNING id
)
DELETE FROM email_digest_items i USING ended WHERE i.digest_id = ended.id
"""

# Students whose next digest is due and who have none waiting to be sent, locked for this
# transaction (SKIP LOCKED: concurrent senders take different students). $1 how many.
DUE_DIGEST_STUDENTS = """
SELECT p.user_id, p.period, p.opted_in_at
FROM email_digest_preferences p
WHERE p.opted_in AND p.confirmed_at IS NOT NULL AND p.suspended_at IS NULL
  AND p.next_digest_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM email_digests d
      WHERE d.user_id = p.user_id AND d.state IN ('pending', 'sending')
  )
ORDER BY p.next_digest_at
LIMIT $1
FOR UPDATE OF p SKIP LOCKED
"""

# What a digest may list: unread and not archived, never written to an open stream, never
# reported on screen. Said once for making a digest and for checking it again before sending.
DIGEST_ELIGIBLE = f"{UNREAD} AND n.seen_at IS NULL AND n.delivered_via IS DISTINCT FROM '{STREAM}'"

# Waiting for a digest: eligible, created since the student opted in, and in no digest yet. Said
# once for making a digest and for counting what waits after it ("... and N more"): a query
# using it reads notifications `n` of the student whose preference row is `p`.
DIGEST_WAITING = f"""{DIGEST_ELIGIBLE} AND n.created_at >= p.opted_in_at
      AND NOT EXISTS (SELECT 1 FROM email_digest_items i WHERE i.notification_id = n.id)"""

# One student's digest, made in the transaction that holds their preference row: every waiting
# notification created at least $2 seconds ago becomes this digest's (the items' primary key
# makes a second owner impossible), the newest $4 of them only (what the email lists; the rest
# wait for the next digest), and their next digest is due one period ($3 seconds) from now,
# whether or not this one had anything.
# $1 user. The new digest's id, or no row when there was nothing to mail.
MAKE_DIGEST = f"""
WITH picked AS (
    SELECT n.id FROM notifications n
    JOIN email_digest_preferences p ON p.user_id = n.user_id
    WHERE n.user_id = $1 AND {DIGEST_WAITING}
      AND n.created_at <= now() - make_interval(secs => $2)
    ORDER BY n.id DESC
    LIMIT $4
), digest AS (
    INSERT INTO email_digests (user_id) SELECT $1 WHERE EXISTS (SELECT 1 FROM picked)
    RETURNING id
), items AS (
    INSERT INTO email_digest_items (notification_id, digest_id)
    SELECT picked.id, digest.id FROM picked CROSS JOIN digest
), schedule AS (
    UPDATE email_digest_preferences SET next_digest_at = now() + make_interval(secs => $3)
    WHERE user_id = $1
)
SELECT id FROM digest
"""

# The next digest to send: pending and due, or `sending` with its sender's lease run out (that
# sender died). The claim is the lease: `next_attempt_at` moves $2 seconds ahead, and `attempts`
# is the fencing token every later write of this attempt checks. $1 who claims.
CLAIM_DIGEST_SEND = """
UPDATE email_digests
SET state = 'sending', attempts = attempts + 1, claimed_by = $1,
    next_attempt_at = now() + make_interval(secs => $2)
WHERE id = (
    SELECT id FROM email_digests
    WHERE state IN ('pending', 'sending') AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id, user_id, message_uuid, attempts, created_at
"""

DIGEST_RECIPIENT = """
SELECT address, opted_in, period, confirmed_at IS NOT NULL AS confirmed, locale, time_zone
FROM email_digest_preferences WHERE user_id = $1
"""

# What a digest lists now (newest first): its notifications still eligible, at most $2, with
# what the student asked (their content request's question and title, when it has one) and how
# many more of the student's wait for a later digest (`waiting`: DIGEST_WAITING).
# $1 digest, $3 user.
DIGEST_CONTENT = f"""
SELECT n.id, n.type, n.payload, n.created_at, COALESCE(t.label, n.type) AS label,
       r.question, r.title AS request_title,
       (SELECT count(*) FROM notifications n
        JOIN email_digest_preferences p ON p.user_id = n.user_id
        WHERE n.user_id = $3 AND {DIGEST_WAITING}
       ) AS waiting
FROM email_digest_items i
JOIN notifications n ON n.id = i.notification_id
JOIN notification_types t ON t.name = n.type{REQUEST_OF_NOTIFICATION}
WHERE i.digest_id = $1 AND {DIGEST_ELIGIBLE}
ORDER BY n.id DESC
LIMIT $2
"""

# The attempt's outcome, written only by the sender still holding the claim ($1 digest, $2 who
# claimed, $3 attempts). Accepted: the server's reply is recorded in the same statement that
# marks it sent ($4 reply, $5 how many notifications it listed), and the student's next digest
# moves to at least one period ($6 seconds) from now: after a long retry chain, two digests never
# go out back to back. How many digests it marked (0: the claim was lost).
DIGEST_SENT = """
WITH sent AS (
    UPDATE email_digests
    SET state = 'sent', sent_at = now(), smtp_reply = $4, sent_count = $5, last_error = NULL,
        claimed_by = NULL
    WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'sending'
    RETURNING user_id
), later AS (
    UPDATE email_digest_preferences p
    SET next_digest_at = GREATEST(p.next_digest_at, now() + make_interval(secs => $6)),
        hard_bounces = 0
    FROM sent WHERE p.user_id = sent.user_id
)
SELECT count(*) FROM sent
"""

# Refused or unreachable: tried again in $4 seconds. $5 what went wrong.
DIGEST_RETRY = """
UPDATE email_digests
SET state = 'pending', next_attempt_at = now() + make_interval(secs => $4), last_error = $5,
    claimed_by = NULL
WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'sending'
"""

# Never to be sent: `failed` (refused for good, or given up) or `cancelled` (opted out, nothing
# left unread). $4 the state, $5 why. Its notifications are released: still unread, they go into
# the student's next digest (to the address they corrected, say).
DIGEST_END = """
WITH ended AS (
    UPDATE email_digests SET state = $4, last_error = $5, claimed_by = NULL
    WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND state = 'sending'
    RETURNING id
)
DELETE FROM email_digest_items i USING ended WHERE i.digest_id = ended.id
"""

# The SMTP server is down: every digest due now waits $1 seconds more (its attempts unchanged),
# instead of each one timing out in turn.
DIGEST_POSTPONE_DUE = """
UPDATE email_digests SET next_attempt_at = now() + make_interval(secs => $1)
WHERE state = 'pending' AND next_attempt_at <= now()
"""

# When the sender next has something to do: the first digest due to be made (of students with
# none waiting) or to be (re)tried.
DIGEST_NEXT_DUE = """
SELECT LEAST(
    (SELECT p.next_digest_at FROM email_digest_preferences p
     WHERE p.opted_in AND p.confirmed_at IS NOT NULL AND p.suspended_at IS NULL AND NOT EXISTS (
         SELECT 1 FROM email_digests d
         WHERE d.user_id = p.user_id AND d.state IN ('pending', 'sending')
     )
     ORDER BY p.next_digest_at LIMIT 1),
    (SELECT min(next_attempt_at) FROM email_digests WHERE state IN ('pending', 'sending'))
)
"""

# The digest backlog's age for /metrics (channels/backlog.py): seconds since the earliest due
# digest became due; 0 when nothing waits.
DIGEST_BACKLOG_AGE = f"""
SELECT GREATEST(COALESCE(EXTRACT(EPOCH FROM now() - ({DIGEST_NEXT_DUE})), 0), 0)::float8
"""

# A digest's open link asked with HEAD (open_routes.py): where it leads, nothing recorded.
NOTIFICATION_PAYLOAD = "SELECT payload FROM notifications WHERE id = $1 AND user_id = $2"

# A hard bounce (the recipient refused with a 5xx) of the address digest $1 went to: counted,
# and at $2 in a row the address is suspended with the reason $3 (no digest is made meanwhile:
# DUE_DIGEST_STUDENTS). Only while the preference still has the address the digest went to ($4).
DIGEST_BOUNCED = """
UPDATE email_digest_preferences
SET hard_bounces = hard_bounces + 1,
    suspended_at = CASE WHEN hard_bounces + 1 >= $2 THEN COALESCE(suspended_at, now()) END,
    suspended_reason = CASE WHEN hard_bounces + 1 >= $2 THEN $3 END
WHERE user_id = (SELECT user_id FROM email_digests WHERE id = $1) AND address = $4
"""
