"""Named SQL of the delivery path, kept in one place so it stays visible and tested."""

NOTIFICATION_COLUMNS = "id, user_id, type, payload, created_at, read_at, dismissed_at"

# The one query for "these users' rows after these ids, in id order" (`service/feed.py`): live
# wake-ups, catch-up after the listener reconnects, a new user's starting point and a stream's
# replay. Per cursor it also returns what decides whether the cursor can be replayed at all:
# rows up to `pruned_through` may have been deleted by retention, and a cursor above both that
# and `latest_id` was not issued by this database (a restore, another deployment). One row per
# cursor at least; `id` is NULL when that cursor has nothing newer.
# $1 users, $2 their cursors, $3 rows per user at most.
NOTIFICATIONS_AFTER = f"""
SELECT cursor.user_id, bounds.pruned_through, bounds.latest_id,
       page.id, page.type, page.payload, page.created_at, page.read_at, page.dismissed_at
FROM unnest($1::uuid[], $2::bigint[]) AS cursor (user_id, after_id)
CROSS JOIN LATERAL (
    SELECT COALESCE(
        (SELECT pruned_through_id FROM notification_retention r WHERE r.user_id = cursor.user_id),
        0
    ) AS pruned_through,
    COALESCE(
        (SELECT max(id) FROM notifications n WHERE n.user_id = cursor.user_id), 0
    ) AS latest_id
) AS bounds
LEFT JOIN LATERAL (
    SELECT {NOTIFICATION_COLUMNS} FROM notifications n
    WHERE n.user_id = cursor.user_id AND n.id > cursor.after_id
    ORDER BY n.id
    LIMIT $3
) AS page ON true
ORDER BY page.id NULLS FIRST
"""

# -- history and read state -----------------------------------------------------------------

# The unread condition is said once, in SQL (migration 0005). The planner inlines it, here and in
# the partial index `notifications_user_unread` whose predicate it is, so queries using it keep
# using that index.
UNREAD = "vividly_unread_v1(read_at, dismissed_at)"


def history_page(*, unread_only: bool, include_dismissed: bool, by_type: bool) -> str:
    """One page of history, newest first, with the unread count in the same snapshot.

    $1 user, $2 before (exclusive), $3 limit, $4 type (when `by_type`). Composed only of the
    fixed fragments below, so that each variant gets a plan that can use its index: the unread
    variant states the partial index's predicate (`UNREAD`).
    """
    conditions = ["user_id = $1", "id < $2"]
    if unread_only:
        conditions.append(UNREAD)
    elif not include_dismissed:
        conditions.append("dismissed_at IS NULL")
    if by_type:
        conditions.append("type = $4")
    return f"""
SELECT counts.unread_count, page.*
FROM (
    SELECT count(*) AS unread_count FROM notifications WHERE user_id = $1 AND {UNREAD}
) AS counts
LEFT JOIN LATERAL (
    SELECT {NOTIFICATION_COLUMNS} FROM notifications
    WHERE {" AND ".join(conditions)}
    ORDER BY id DESC
    LIMIT $3
) AS page ON true
ORDER BY page.id DESC
"""


UNREAD_BY_TYPE = f"""
SELECT type, count(*) AS unread FROM notifications WHERE user_id = $1 AND {UNREAD} GROUP BY type
"""

UNREAD_COUNT = f"SELECT count(*) FROM notifications WHERE user_id = $1 AND {UNREAD}"

# Single-row changes: the row after the change, or nothing when it is not the user's.
MARK_READ = f"""
UPDATE notifications SET read_at = COALESCE(read_at, now())
WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}
"""
MARK_UNREAD = f"""
UPDATE notifications SET read_at = NULL
WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}
"""
DISMISS = f"""
UPDATE notifications SET dismissed_at = COALESCE(dismissed_at, now())
WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}
"""

# Bulk changes up to a watermark ($2), so a notification arriving mid-click stays unread.
# Rows locked in id order first, like every statement changing several (see MARK_DELIVERED).
READ_ALL = f"""
UPDATE notifications n SET read_at = now()
FROM (
    SELECT id FROM notifications WHERE user_id = $1 AND id <= $2 AND {UNREAD}
    ORDER BY id FOR NO KEY UPDATE
) AS locked
WHERE n.id = locked.id AND {UNREAD}
"""
DISMISS_ALL = """
UPDATE notifications n SET dismissed_at = now()
FROM (
    SELECT id FROM notifications WHERE user_id = $1 AND id <= $2 AND dismissed_at IS NULL
    ORDER BY id FOR NO KEY UPDATE
) AS locked
WHERE n.id = locked.id AND n.dismissed_at IS NULL
"""

# The registry of types: the only list of them, with what clients show for each (a type
# registered without a label is shown by its name).
NOTIFICATION_TYPES = """
SELECT name, COALESCE(label, name) AS label, description FROM notification_types ORDER BY name
"""

PREFERENCES = """
SELECT t.name AS type, COALESCE(p.in_app, true) AS in_app
FROM notification_types t
LEFT JOIN notification_preferences p ON p.type = t.name AND p.user_id = $1
ORDER BY t.name
"""

# Names among $1 that are not registered types (a preference change naming one changes nothing).
UNKNOWN_TYPES = """
SELECT wanted.name FROM unnest($1::text[]) AS wanted (name)
WHERE NOT EXISTS (SELECT 1 FROM notification_types t WHERE t.name = wanted.name)
ORDER BY wanted.name
"""

SET_PREFERENCE = """
INSERT INTO notification_preferences (user_id, type, in_app) VALUES ($1, $2, $3)
ON CONFLICT (user_id, type) DO UPDATE SET in_app = EXCLUDED.in_app, updated_at = now()
"""

# Retention: delete read or archived rows older than the cutoff and raise each user's
# watermark in the same statement, so a stream cursor below a deleted row gets `reset`.
PRUNE = """
WITH deleted AS (
    DELETE FROM notifications
    WHERE created_at < $1 AND (read_at IS NOT NULL OR dismissed_at IS NOT NULL)
    RETURNING user_id, id
), watermarks AS (
    INSERT INTO notification_retention (user_id, pruned_through_id)
    SELECT user_id, max(id) FROM deleted GROUP BY user_id
    ON CONFLICT (user_id) DO UPDATE
    SET pruned_through_id = GREATEST(
        notification_retention.pruned_through_id, EXCLUDED.pruned_through_id
    )
)
SELECT count(*) FROM deleted
"""

# Retention of content requests: finished ones last changed before the cutoff whose
# notifications are gone (pruned, or never created); their media files go with them. A request
# with a notification still unread keeps its video.
PRUNE_REQUESTS = """
DELETE FROM content_requests r
WHERE r.status IN ('completed', 'failed', 'clarification_needed') AND r.updated_at < $1
  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.content_request_id = r.id)
RETURNING r.id
"""

# After the listener reconnects: read state may have changed unseen; streams get the counts.
UNREAD_COUNTS_MANY = f"""
SELECT u.user_id,
       (SELECT count(*) FROM notifications n WHERE n.user_id = u.user_id AND {UNREAD})
       AS unread_count
FROM unnest($1::uuid[]) AS u (user_id)
"""

# -- content requests ---------------------------------------------------------------------

REQUEST_COLUMNS = (
    "id, student_id, status, question, title, video_url, thumbnail_url, duration_seconds,"
    " error_message, clarification_question, clarification_answer, created_at, updated_at"
)

CREATE_REQUEST = f"""
INSERT INTO content_requests (student_id, question) VALUES ($1, $2) RETURNING {REQUEST_COLUMNS}
"""

REQUEST_OF_STUDENT = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests WHERE id = $1 AND student_id = $2
"""

# Newest first, keyset paged on (created_at, id) with the content_requests_student_newest index.
# The cursor is the id of the last item seen; another user's id matches nothing.
REQUESTS_FIRST_PAGE = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests
WHERE student_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2
"""
REQUESTS_PAGE_AFTER = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests
WHERE student_id = $1 AND (created_at, id) < (
    SELECT created_at, id FROM content_requests WHERE id = $3 AND student_id = $1
)
ORDER BY created_at DESC, id DESC
LIMIT $2
"""

# The per-student cap on open requests (`service/open_requests.py`). The lock serialises one
# student's admissions (creation, retry) to the end of the transaction, so two at once cannot
# both see room for one; the count reads the partial index content_requests_student_open.
LOCK_STUDENT_REQUESTS = """
SELECT pg_advisory_xact_lock(hashtextextended('vividly:content_requests:' || $1::uuid::text, 0))
"""
OPEN_REQUEST_COUNT = """
SELECT count(*) FROM content_requests
WHERE student_id = $1 AND status IN ('pending', 'processing')
"""

# A failed request goes back to the queue as it was asked: the failure is cleared and its claims
# start over. Leaving `failed` for `pending` wakes a worker (the pending trigger) and starts a new
# notification round (the touch trigger), so its next final status notifies again.
REOPEN_FAILED = f"""
UPDATE content_requests
SET status = 'pending', error_message = NULL, attempts = 0, claimed_by = NULL,
    lease_expires_at = NULL
WHERE id = $1 AND student_id = $2 AND status = 'failed'
RETURNING {REQUEST_COLUMNS}
"""

ANSWER_CLARIFICATION = f"""
UPDATE content_requests SET status = 'pending', clarification_answer = $3, attempts = 0
WHERE id = $1 AND student_id = $2 AND status = 'clarification_needed'
RETURNING {REQUEST_COLUMNS}
"""

# -- the worker ---------------------------------------------------------------------------

# The first in fair order (the lowest round, then the oldest: one request per student per round,
# migration 0006) of the first pending request and the first processing one whose worker stopped
# renewing its lease (an orphan, migration 0008): an orphan is not starved by a busy queue.
# SKIP LOCKED: concurrent workers never wait on, nor take, the same row. Both candidates are
# locked until this statement commits; the other workers skip the one not taken meanwhile.
CLAIM = """
WITH waiting AS (
    -- Each lookup reads its partial index in order (an OR of both would sort every pending row
    -- on each claim).
    SELECT id, fair_round, created_at FROM content_requests WHERE status = 'pending'
    ORDER BY fair_round, created_at LIMIT 1 FOR UPDATE SKIP LOCKED
), orphan AS (
    SELECT id, fair_round, created_at FROM content_requests
    WHERE status = 'processing' AND lease_expires_at < now()
    ORDER BY fair_round, created_at LIMIT 1 FOR UPDATE SKIP LOCKED
)
UPDATE content_requests
SET status = 'processing', claimed_by = $1, attempts = attempts + 1,
    lease_expires_at = now() + make_interval(secs => $2)
WHERE id = (
    SELECT CASE
        WHEN orphan.id IS NULL THEN waiting.id
        WHEN waiting.id IS NULL THEN orphan.id
        WHEN (orphan.fair_round, orphan.created_at) < (waiting.fair_round, waiting.created_at)
            THEN orphan.id
        ELSE waiting.id
    END
    FROM (SELECT) AS one LEFT JOIN waiting ON true LEFT JOIN orphan ON true
)
RETURNING id, student_id, question, clarification_question, clarification_answer, attempts
"""

# Every write below is guarded by the claim: a worker that lost its lease changes nothing.
RENEW_LEASE = """
UPDATE content_requests SET lease_expires_at = now() + make_interval(secs => $3)
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

FINISH_COMPLETED = """
UPDATE content_requests
SET status = 'completed', title = $3, video_url = $4, thumbnail_url = $5, duration_seconds = $6,
    error_message = NULL, claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

FINISH_FAILED = """
UPDATE content_requests
SET status = 'failed', error_message = $3, title = COALESCE(title, $4),
    claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

FINISH_CLARIFICATION = """
UPDATE content_requests
SET status = 'clarification_needed', clarification_question = $3, clarification_answer = NULL,
    claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

# A worker stopping mid-job hands it back without counting the attempt.
RELEASE = """
UPDATE content_requests
SET status = 'pending', claimed_by = NULL, lease_expires_at = NULL, attempts = attempts - 1
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

# Retention of the digest outbox: digests that ended before the cutoff and own no notification
# any more (unsent ones released theirs; a sent one's go when retention deletes them, so a still
# unread notification keeps the record that it was mailed and is never mailed again).
PRUNE_DIGESTS = """
WITH deleted AS (
    DELETE FROM email_digests d
    WHERE d.state IN ('sent', 'failed', 'cancelled') AND d.created_at < $1
      AND NOT EXISTS (SELECT 1 FROM email_digest_items i WHERE i.digest_id = d.id)
    RETURNING 1
)
SELECT count(*) FROM deleted
"""

# -- delivery record (migration 0009) ---------------------------------------------------------

# The first channel to deliver a notification records it (`stream`, `push`, `email`); a later
# delivery by any channel changes nothing. $1 ids, $2 when each was delivered, $3 the channel.
# Rows are locked in id order, so two of these at once (the stream recorders of two processes,
# the push dispatcher, the digest sender) wait for each other instead of deadlocking; every
# other statement locking several notifications (MARK_SEEN, READ_ALL, DISMISS_ALL) locks in id
# order too. FOR NO KEY UPDATE, not FOR UPDATE: no key changes, so it does not wait for the FOR
# KEY SHARE lock an insert referencing the row holds to its commit (a push queued, a digest's
# items, up to 100 students per transaction).
MARK_DELIVERED = """
UPDATE notifications n SET delivered_at = d.at, delivered_via = $3
FROM (
    SELECT t.id, d.at
    FROM unnest($1::bigint[], $2::timestamptz[]) AS d (id, at)
    JOIN notifications t ON t.id = d.id
    WHERE t.delivered_at IS NULL
    ORDER BY t.id
    FOR NO KEY UPDATE OF t
) AS d
WHERE n.id = d.id AND n.delivered_at IS NULL
"""

# The same at the database's now() (the transaction's start), for a channel whose delivery is
# recorded in one transaction (the email digest): no API host's clock in it. $1 ids, $2 channel.
MARK_DELIVERED_NOW = """
UPDATE notifications n SET delivered_at = now(), delivered_via = $2
FROM (
    SELECT id FROM notifications
    WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL
    ORDER BY id
    FOR NO KEY UPDATE
) AS d
WHERE n.id = d.id AND n.delivered_at IS NULL
"""

# -- Web Push (service/push/) ---------------------------------------------------------------

# Subscribe a browser: the same endpoint is one row whoever sends it. Moved to another user, it
# starts afresh (created_at = now, so none of the new user's older notifications and none of the
# old user's at all are pushed to it: its delivery rows go). Renewed by the same user (new keys),
# it keeps its age. $1 user, $2 endpoint, $3 p256dh, $4 auth.
PUSH_SUBSCRIBE = """
WITH moved AS (
    DELETE FROM push_deliveries d USING push_subscriptions s
    WHERE s.endpoint = $2 AND s.user_id <> $1 AND d.subscription_id = s.id
)
INSERT INTO push_subscriptions AS s (user_id, endpoint, p256dh, auth)
VALUES ($1, $2, $3, $4)
ON CONFLICT (endpoint) DO UPDATE SET
    user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
    created_at = CASE WHEN s.user_id = excluded.user_id THEN s.created_at ELSE now() END,
    updated_at = now()
RETURNING id, created_at, (xmax = 0) AS created
"""

# A user keeps at most $2 devices: the least recently renewed beyond that go. $1 user.
PUSH_TRIM_SUBSCRIPTIONS = """
DELETE FROM push_subscriptions WHERE id IN (
    SELECT id FROM push_subscriptions WHERE user_id = $1
    ORDER BY updated_at DESC, id DESC OFFSET $2
)
"""

# Only the user's own subscription; another user's endpoint is left alone. $1 user, $2 endpoint.
PUSH_UNSUBSCRIBE = "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2"

# Whether $2 is the endpoint of a subscription of user $1.
PUSH_IS_SUBSCRIBED = "SELECT true FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2"

PUSH_REMOVE_SUBSCRIPTION = "DELETE FROM push_subscriptions WHERE id = $1"

# The push condition is said here once: unread (not read, not archived), never seen, not older
# than the subscription nor the TTL, and either no stream took it within the grace or nobody saw
# it within the delay. Each (notification, subscription) gets one row, ever (the primary key).
# Only notifications created in the last $4 seconds are looked at (the dispatcher passes a short
# window each poll and the whole TTL now and then, service/push/dispatcher.py): it reads that
# range of `notifications_created_brin`, then each one's subscriptions by user, so a poll costs
# the recent notifications, not every subscription times every unread one.
# $1 grace seconds, $2 delay seconds, $3 TTL seconds, $4 window seconds.
PUSH_ENQUEUE = f"""
INSERT INTO push_deliveries (notification_id, subscription_id)
SELECT n.id, s.id
FROM notifications n
JOIN push_subscriptions s ON s.user_id = n.user_id AND n.created_at >= s.created_at
WHERE n.created_at >= now() - make_interval(secs => least($3::float8, $4::float8))
  AND n.created_at <= now() - make_interval(secs => least($1::float8, $2::float8))
  AND {UNREAD} AND n.seen_at IS NULL
  AND (n.created_at <= now() - make_interval(secs => $2::float8)
       OR (n.delivered_at IS NULL AND n.created_at <= now() - make_interval(secs => $1::float8)))
  AND NOT EXISTS (
      SELECT 1 FROM push_deliveries d WHERE d.notification_id = n.id AND d.subscription_id = s.id
  )
ON CONFLICT DO NOTHING
"""

# One process enqueues at a time (the others skip that poll): the lock ends with the transaction.
PUSH_ENQUEUE_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('vividly_push_enqueue'))"

# Claim up to $1 due pushes for $2 seconds (the lease), moving them to `sending`. At most once
# (migration 0012): a `sending` row whose lease ended without an outcome (the process died, or its
# send could not be recorded) may have gone out, so it is closed as failed here, never resent. A
# row that has used its $3 attempts (each one answered "try again") is given up here too.
PUSH_CLAIM = """
WITH unknown AS (
    UPDATE push_deliveries
    SET state = 'failed', finished_at = now(),
        last_error = 'outcome unknown: the sending process stopped mid-send; not resent'
    WHERE state = 'sending' AND next_attempt_at <= now()
), exhausted AS (
    UPDATE push_deliveries
    SET state = 'failed', finished_at = now(),
        last_error = coalesce(last_error, 'no outcome recorded') || ' (attempts used up)'
    WHERE state = 'pending' AND next_attempt_at <= now() AND attempts >= $3
), due AS (
    SELECT notification_id, subscription_id FROM push_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now() AND attempts < $3
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE push_deliveries d
SET state = 'sending', attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2::float8)
FROM due
WHERE d.notification_id = due.notification_id AND d.subscription_id = due.subscription_id
RETURNING d.notification_id, d.subscription_id, d.attempts
"""

# What to send for a claimed row, read right before the send (not at claim time: a browser
# moved to another user, or a notification read, between the claim and the send must stop it).
# No row: the claim is no longer this attempt's (the subscription was moved or removed, which
# deletes its rows). `wanted` is the push condition's "still to be sent"; `ttl_left` the seconds
# a push service should still keep it. $1 notification, $2 subscription, $3 attempt, $4 TTL.
PUSH_LOAD = """
SELECT s.endpoint, s.p256dh, s.auth, n.user_id, n.type, n.payload, n.created_at, t.label,
       (s.user_id = n.user_id AND vividly_unread_v1(n.read_at, n.dismissed_at)
        AND n.seen_at IS NULL
        AND n.created_at >= now() - make_interval(secs => $4::float8)) AS wanted,
       floor(extract(epoch FROM n.created_at + make_interval(secs => $4::float8) - now()))::int
           AS ttl_left
FROM push_deliveries d
JOIN push_subscriptions s ON s.id = d.subscription_id
JOIN notifications n ON n.id = d.notification_id
LEFT JOIN notification_types t ON t.name = n.type
WHERE d.notification_id = $1 AND d.subscription_id = $2 AND d.state = 'sending'
  AND d.attempts = $3
"""

# The push service accepted it: recorded, and with it the notification's first delivery (if
# nothing delivered it before) at the database's now(). Only a row still pending and claimed by
# this attempt. Returns `first`: whether this push was the notification's first delivery.
# $1 notification, $2 subscription, $3 attempt.
PUSH_SENT = """
WITH sent AS (
    UPDATE push_deliveries SET state = 'sent', finished_at = now(), last_error = NULL
    WHERE notification_id = $1 AND subscription_id = $2 AND state = 'sending' AND attempts = $3
    RETURNING notification_id
), delivered AS (
    UPDATE notifications n SET delivered_at = now(), delivered_via = 'push'
    FROM sent WHERE n.id = sent.notification_id AND n.delivered_at IS NULL
    RETURNING n.id
)
SELECT (SELECT count(*) FROM sent) AS sent, (SELECT count(*) FROM delivered) AS first
"""

# Try again at now + $4 seconds. $5 the reason (short).
PUSH_RETRY = """
UPDATE push_deliveries
SET state = 'pending', next_attempt_at = now() + make_interval(secs => $4::float8),
    last_error = $5
WHERE notification_id = $1 AND subscription_id = $2 AND state = 'sending' AND attempts = $3
"""

# Finished without a send: $4 'failed' (given up) or 'cancelled' (no longer wanted).
PUSH_FINISH = """
UPDATE push_deliveries SET state = $4, finished_at = now(), last_error = $5
WHERE notification_id = $1 AND subscription_id = $2 AND state = 'sending' AND attempts = $3
"""

# What the client reports (`POST /api/v1/notifications/seen`, `/{id}/opened`): only the caller's
# own rows, and only the first report of each counts (a repeated one changes no row). Neither
# touches `read_at` or `dismissed_at`, so neither sends a read-state NOTIFY.
# $1 user, $2 ids (the endpoint bounds them).
# Rows are locked in id order (see MARK_DELIVERED).
MARK_SEEN = """
UPDATE notifications n SET seen_at = now()
FROM (
    SELECT id FROM notifications WHERE user_id = $1 AND id = ANY($2::bigint[]) AND seen_at IS NULL
    ORDER BY id FOR NO KEY UPDATE
) AS locked
WHERE n.id = locked.id AND n.seen_at IS NULL
"""
# Opened implies seen. One row when the notification is the user's (changed now, or opened
# before: the CTE's change is not visible to the second SELECT's snapshot), none otherwise; also
# none when it was opened by a transaction that committed while this one waited for its row
# (its snapshot predates that change): the endpoint then runs it once more.
# $1 id, $2 user.
MARK_OPENED = """
WITH changed AS (
    UPDATE notifications SET opened_at = now(), seen_at = COALESCE(seen_at, now())
    WHERE id = $1 AND user_id = $2 AND opened_at IS NULL
    RETURNING id, seen_at, opened_at, true AS first
)
SELECT id, seen_at, opened_at, first FROM changed
UNION ALL
SELECT id, seen_at, opened_at, false FROM notifications
WHERE id = $1 AND user_id = $2 AND opened_at IS NOT NULL
"""

# -- delivery analytics (admin) ---------------------------------------------------------------

# For the rest of the transaction only (service/analytics.py). $1 e.g. '10000ms'.
SET_LOCAL_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', $1, true)"

# Aggregates of the notifications created in [$1, $2): per type and first channel (`none`: not
# delivered), per type (`all_channels`), and overall (`all_types`), in one scan. The window on
# `created_at` reads the BRIN index `notifications_created_brin` (rows are inserted in time
# order), so a week of a large table costs that week's pages. Time to deliver is from creation
# to the first delivery, in seconds (a negative value, from clock skew between the API host and
# the database, counts as 0).
DELIVERY_ANALYTICS = """
SELECT n.type, n.channel,
       GROUPING(n.type) = 1 AS all_types, GROUPING(n.channel) = 1 AS all_channels,
       count(*) AS created,
       count(n.delivered_at) AS delivered,
       count(n.seen_at) AS seen,
       count(n.opened_at) AS opened,
       count(*) FILTER (WHERE n.opened_at IS NOT NULL AND n.delivered_at IS NOT NULL)
           AS opened_delivered,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.deliver_seconds) AS deliver_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY n.deliver_seconds) AS deliver_p95
FROM (
    SELECT type, COALESCE(delivered_via, 'none') AS channel, delivered_at, seen_at, opened_at,
           CASE WHEN delivered_at IS NOT NULL
                THEN GREATEST(extract(epoch FROM delivered_at - created_at)::float8, 0)
           END AS deliver_seconds
    FROM notifications
    WHERE created_at >= $1 AND created_at < $2
) AS n
GROUP BY GROUPING SETS ((n.type, n.channel), (n.type), ())
ORDER BY all_types, n.type, all_channels DESC, n.channel
"""

# -- email digest (migration 0011, service/digest/) -------------------------------------------

# A student's preference with how their latest digest went; no row when they never set one.
# $1 user.
DIGEST_PREFERENCE = """
SELECT p.address, p.period, p.opted_in, p.next_digest_at, p.confirmed_at, p.confirmation_sent_at,
       (SELECT d.sent_at FROM email_digests d WHERE d.user_id = $1 AND d.state = 'sent'
        ORDER BY d.id DESC LIMIT 1) AS last_sent_at,
       (SELECT CASE WHEN d.state <> 'sent' THEN d.last_error END FROM email_digests d
        WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT 1) AS last_error
FROM email_digest_preferences p WHERE p.user_id = $1
"""

# Opting in (again) starts the clock: nothing created before `opted_in_at` is ever mailed, and
# the next digest comes one period later. A new period restarts the wait from now, so two digests
# are always at least one period apart; a new address alone changes neither, but it must be
# confirmed again (`confirmed_at` cleared; `confirmation_sent_at` kept: the resend limit is the
# student's, whatever the address).
# $1 user, $2 address, $3 period, $4 opted in, $5 the period's length in seconds.
SET_DIGEST_PREFERENCE = """
INSERT INTO email_digest_preferences AS p
    (user_id, address, period, opted_in, opted_in_at, next_digest_at)
VALUES ($1, $2, $3, $4, now(), now() + make_interval(secs => $5))
ON CONFLICT (user_id) DO UPDATE SET
    address = EXCLUDED.address,
    confirmed_at = CASE WHEN p.address = EXCLUDED.address THEN p.confirmed_at END,
    period = EXCLUDED.period,
    opted_in = EXCLUDED.opted_in,
    opted_in_at = CASE WHEN p.opted_in OR NOT EXCLUDED.opted_in THEN p.opted_in_at ELSE now() END,
    next_digest_at = CASE WHEN p.opted_in AND p.period = EXCLUDED.period THEN p.next_digest_at
                          ELSE EXCLUDED.next_digest_at END,
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

# Double opt-in. The right to mail a confirmation now, taken atomically: at most one per student
# per $2 seconds, and only for an opted-in, unconfirmed address (returned). $1 user.
TAKE_CONFIRMATION_SEND = """
UPDATE email_digest_preferences SET confirmation_sent_at = now()
WHERE user_id = $1 AND opted_in AND confirmed_at IS NULL
  AND (confirmation_sent_at IS NULL
       OR confirmation_sent_at <= now() - make_interval(secs => $2))
RETURNING address
"""
# The confirmation email could not be sent: the student may ask again at once. $1 user.
GIVE_BACK_CONFIRMATION_SEND = """
UPDATE email_digest_preferences SET confirmation_sent_at = NULL WHERE user_id = $1
"""
# The link was followed (POST), for the address it was mailed to. $1 user.
CONFIRM_DIGEST_ADDRESS = """
UPDATE email_digest_preferences SET confirmed_at = now(), updated_at = now()
WHERE user_id = $1 AND confirmed_at IS NULL
"""

# For the unsubscribe and confirmation links: the address it must have been mailed to. $1 user.
DIGEST_ADDRESS_FOR_UPDATE = """
SELECT address, opted_in, confirmed_at IS NOT NULL AS confirmed
FROM email_digest_preferences WHERE user_id = $1 FOR UPDATE
"""
UNSUBSCRIBE_DIGEST = """
UPDATE email_digest_preferences SET opted_in = false, updated_at = now() WHERE user_id = $1
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
WHERE p.opted_in AND p.confirmed_at IS NOT NULL AND p.next_digest_at <= now()
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
DIGEST_ELIGIBLE = f"{UNREAD} AND n.seen_at IS NULL AND n.delivered_via IS DISTINCT FROM 'stream'"

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
SELECT address, opted_in, period, confirmed_at IS NOT NULL AS confirmed
FROM email_digest_preferences WHERE user_id = $1
"""

# What a digest lists now (newest first): its notifications still eligible, at most $2, with
# how many more of the student's wait for a later digest (`waiting`: DIGEST_WAITING).
# $1 digest, $3 user.
DIGEST_CONTENT = f"""
SELECT n.id, n.type, n.payload, n.created_at, COALESCE(t.label, n.type) AS label,
       (SELECT count(*) FROM notifications n
        JOIN email_digest_preferences p ON p.user_id = n.user_id
        WHERE n.user_id = $3 AND {DIGEST_WAITING}
       ) AS waiting
FROM email_digest_items i
JOIN notifications n ON n.id = i.notification_id
JOIN notification_types t ON t.name = n.type
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
    SET next_digest_at = GREATEST(p.next_digest_at, now() + make_interval(secs => $6))
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
     WHERE p.opted_in AND p.confirmed_at IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM email_digests d
         WHERE d.user_id = p.user_id AND d.state IN ('pending', 'sending')
     )
     ORDER BY p.next_digest_at LIMIT 1),
    (SELECT min(next_attempt_at) FROM email_digests WHERE state IN ('pending', 'sending'))
)
"""

# Backlog ages for /metrics (service/backlog.py): seconds since the oldest push or digest that
# is due and not yet taken became due; 0 when nothing waits. Each reads a partial index's head.
PUSH_BACKLOG_AGE = """
SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0)::float8
FROM push_deliveries
WHERE state IN ('pending', 'sending') AND next_attempt_at <= now()
"""
DIGEST_BACKLOG_AGE = f"""
SELECT GREATEST(COALESCE(EXTRACT(EPOCH FROM now() - ({DIGEST_NEXT_DUE})), 0), 0)::float8
"""
