"""SQL of a notification's life after its insert: history, read state, preferences, what was
delivered, seen and opened, and the admin's delivery analytics."""

from db.fragments import NOTIFICATION_COLUMNS, UNREAD

# A notification's content request, when its payload names one of the student's own
# (`content_id` a UUID): what the student asked and the request's title, joined as `r` to the
# notification `n` (the digest and the push read it). A `content_id` that is no UUID (another
# type's) names none and is never cast.
REQUEST_OF_NOTIFICATION = """
LEFT JOIN LATERAL (
    SELECT r.question, r.title FROM content_requests r
    WHERE r.student_id = n.user_id
      AND r.id = (CASE WHEN n.payload->>'content_id'
                       ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                  THEN n.payload->>'content_id' END)::uuid
) r ON true"""


def history_page(
    *, unread_only: bool, include_dismissed: bool, by_type: bool, archived: bool = False
) -> str:
    """One page of history, newest first, with the unread count in the same snapshot.

    $1 user, $2 before (exclusive), $3 limit, $4 type (when `by_type`). Composed only of the
    fixed fragments below, so that each variant gets a plan that can use its index: the unread
    variant states the partial index's predicate (`UNREAD`). `archived`: only archived ones
    (snoozed ones among them, with their `snoozed_until`).
    """
    conditions = ["user_id = $1", "id < $2"]
    if archived:  # with `unread_only` too: nothing (an unread one is never archived)
        conditions.append("dismissed_at IS NOT NULL")
    if unread_only:
        conditions.append(UNREAD)
    elif not archived and not include_dismissed:
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

# Archived until $3, then back as a new notification (migration 0018, `snooze.py`); snoozing
# again moves the time. The archive time of one archived by hand is kept.
SNOOZE = f"""
UPDATE notifications SET dismissed_at = COALESCE(dismissed_at, now()), snoozed_until = $3
WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}
"""

# The Undo of archive and of snooze: back in the inbox as it was (read or not), snooze cancelled.
RESTORE = f"""
UPDATE notifications SET dismissed_at = NULL, snoozed_until = NULL
WHERE id = $1 AND user_id = $2 RETURNING {NOTIFICATION_COLUMNS}
"""

# Bring back up to $1 snoozed notifications whose time has come, as new rows; returns how many
# (migration 0018 says how; several processes may run it at once).
WAKE_SNOOZED = "SELECT vividly_wake_snoozed_v1($1)"

# Seconds until the next snooze ends on the database's clock (NULL: none snoozed), so the waker
# sleeps no longer than that.
NEXT_SNOOZE_DUE = """
SELECT extract(epoch FROM min(snoozed_until) - clock_timestamp())::float8
FROM notifications WHERE snoozed_until IS NOT NULL
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

# For the rest of the transaction only (service/notifications/analytics.py). $1 e.g. '10000ms'.
SET_LOCAL_STATEMENT_TIMEOUT = "SELECT set_config('statement_timeout', $1, true)"

# Aggregates of the notifications created in [$1, $2): per type and first channel (`none`: not
# delivered), per type (`all_channels`), overall (`all_types`), and per time bucket of $3 (an
# interval: an hour or a day, counted from $1; `per_bucket`), in one scan. The type's label comes
# from the registry. The window on `created_at` reads the BRIN index
# `notifications_created_brin` (rows are inserted in time order), so a week of a large table
# costs that week's pages. Time to deliver is from creation to the first delivery, in seconds (a
# negative value, from clock skew between the API host and the database, counts as 0).
DELIVERY_ANALYTICS = """
SELECT n.type, n.channel, n.bucket,
       (SELECT COALESCE(t.label, t.name) FROM notification_types t WHERE t.name = n.type)
           AS label,
       GROUPING(n.type) = 1 AS all_types, GROUPING(n.channel) = 1 AS all_channels,
       GROUPING(n.bucket) = 0 AS per_bucket,
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
           date_bin($3::interval, created_at, $1) AS bucket,
           CASE WHEN delivered_at IS NOT NULL
                THEN GREATEST(extract(epoch FROM delivered_at - created_at)::float8, 0)
           END AS deliver_seconds
    FROM notifications
    WHERE created_at >= $1 AND created_at < $2
) AS n
GROUP BY GROUPING SETS ((n.type, n.channel), (n.type), (), (n.bucket))
ORDER BY per_bucket, n.bucket, all_types, n.type, all_channels DESC, n.channel
"""
