"""SQL of the Web Push channel: subscriptions, and the outbox of pushes with its claims."""

from db.fragments import UNREAD

from ...notifications.sql import REQUEST_OF_NOTIFICATION

# Subscribe a browser: the same endpoint is one row whoever sends it. Moved to another user, it
# starts afresh (created_at = now, so none of the new user's older notifications and none of the
# old user's at all are pushed to it: its delivery rows go). Renewed by the same user (new keys),
# it keeps its age. `created` is false only when it was this user's already: a caller learns
# nothing of another user's subscriptions. $1 user, $2 endpoint, $3 p256dh, $4 auth.
PUSH_SUBSCRIBE = """
WITH mine AS (  -- the statement's snapshot: before the insert
    SELECT 1 FROM push_subscriptions WHERE endpoint = $2 AND user_id = $1
), moved AS (
    DELETE FROM push_deliveries d USING push_subscriptions s
    WHERE s.endpoint = $2 AND s.user_id <> $1 AND d.subscription_id = s.id
)
INSERT INTO push_subscriptions AS s (user_id, endpoint, p256dh, auth)
VALUES ($1, $2, $3, $4)
ON CONFLICT (endpoint) DO UPDATE SET
    user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
    created_at = CASE WHEN s.user_id = excluded.user_id THEN s.created_at ELSE now() END,
    updated_at = now()
RETURNING id, created_at, NOT EXISTS (SELECT 1 FROM mine) AS created
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
# window each poll and the whole TTL now and then, dispatcher.py): it reads that
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
PUSH_LOAD = f"""
SELECT s.endpoint, s.p256dh, s.auth, n.user_id, n.type, n.payload, n.created_at, t.label,
       r.title AS request_title, r.question,
       (s.user_id = n.user_id AND vividly_unread_v1(n.read_at, n.dismissed_at)
        AND n.seen_at IS NULL
        AND n.created_at >= now() - make_interval(secs => $4::float8)) AS wanted,
       floor(extract(epoch FROM n.created_at + make_interval(secs => $4::float8) - now()))::int
           AS ttl_left
FROM push_deliveries d
JOIN push_subscriptions s ON s.id = d.subscription_id
JOIN notifications n ON n.id = d.notification_id
LEFT JOIN notification_types t ON t.name = n.type{REQUEST_OF_NOTIFICATION}
WHERE d.notification_id = $1 AND d.subscription_id = $2 AND d.state = 'sending'
  AND d.attempts = $3
"""

# The push service accepted it: recorded, and with it the notification's first delivery (if
# nothing delivered it before) at the database's now(). Only a row still pending and claimed by
# this attempt. Returns `first`: whether this push was the notification's first delivery.
# $1 notification, $2 subscription, $3 attempt, $4 this channel's name.
PUSH_SENT = """
WITH sent AS (
    UPDATE push_deliveries SET state = 'sent', finished_at = now(), last_error = NULL
    WHERE notification_id = $1 AND subscription_id = $2 AND state = 'sending' AND attempts = $3
    RETURNING notification_id
), delivered AS (
    UPDATE notifications n SET delivered_at = now(), delivered_via = $4
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

# Backlog ages for /metrics (channels/backlog.py): seconds since the oldest push or digest that
# is due and not yet taken became due; 0 when nothing waits. Each reads a partial index's head.
PUSH_BACKLOG_AGE = """
SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0)::float8
FROM push_deliveries
WHERE state IN ('pending', 'sending') AND next_attempt_at <= now()
"""
