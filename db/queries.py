"""Named SQL of the delivery path, kept in one place so it stays visible and tested."""

NOTIFICATION_COLUMNS = "id, user_id, type, payload, created_at, read_at"

NOTIFICATIONS_BY_ID = f"""
SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE id = ANY($1::bigint[]) ORDER BY id
"""

# Replay of one user's cursor, oldest first, one page at a time.
NOTIFICATIONS_AFTER = f"""
SELECT {NOTIFICATION_COLUMNS} FROM notifications
WHERE user_id = $1 AND id > $2
ORDER BY id
LIMIT $3
"""

# Catch-up of many users' cursors in one round trip (after the listener reconnects).
NOTIFICATIONS_AFTER_MANY = f"""
SELECT n.{NOTIFICATION_COLUMNS.replace(", ", ", n.")}
FROM unnest($1::uuid[], $2::bigint[]) AS cursor (user_id, after_id)
CROSS JOIN LATERAL (
    SELECT {NOTIFICATION_COLUMNS} FROM notifications
    WHERE user_id = cursor.user_id AND id > cursor.after_id
    ORDER BY id
    LIMIT $3
) AS n
ORDER BY n.id
"""

# The newest notification id of each user: where a live-only stream starts.
LATEST_IDS = """
SELECT u.user_id,
       COALESCE((SELECT max(id) FROM notifications WHERE user_id = u.user_id), 0) AS latest_id
FROM unnest($1::uuid[]) AS u (user_id)
"""

# The first replay page, with the user's retention watermark in the same round trip: rows up to
# `pruned_through` may have been deleted, so a cursor below it cannot be replayed without a gap.
# Always one row at least; `id` is NULL when the page is empty.
FIRST_REPLAY_PAGE = f"""
SELECT retention.pruned_through, page.*
FROM (
    SELECT COALESCE(
        (SELECT pruned_through_id FROM notification_retention WHERE user_id = $1), 0
    ) AS pruned_through
) AS retention
LEFT JOIN LATERAL (
    SELECT {NOTIFICATION_COLUMNS} FROM notifications
    WHERE user_id = $1 AND id > $2
    ORDER BY id
    LIMIT $3
) AS page ON true
"""
