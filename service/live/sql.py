"""The live core's SQL: "these users' rows after these ids, in id order" and unread counts.

The one read path of live delivery, catch-up and replay (`store.PostgresFeedStore`), and the
channel mode the triggers and the listener agree on (`channel_mode.py`)."""

from db.fragments import NOTIFICATION_COLUMNS, UNREAD

# The one query for "these users' rows after these ids, in id order" (`service/live/feed.py`): live
# wake-ups, catch-up after the listener reconnects, a new user's starting point and a stream's
# replay. Per cursor it also returns what decides whether the cursor can be replayed at all:
# rows up to `pruned_through` may have been deleted by retention, and a cursor above both that
# and `latest_id` was not issued by this database (a restore, another deployment). One row per
# cursor at least; `id` is NULL when that cursor has nothing newer.
# $1 users, $2 their cursors, $3 rows per user at most.
NOTIFICATIONS_AFTER = f"""
SELECT cursor.user_id, bounds.pruned_through, bounds.latest_id,
       page.id, page.type, page.payload, page.created_at, page.read_at, page.dismissed_at,
       page.snoozed_until
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

# After the listener reconnects: read state may have changed unseen; streams get the counts.
UNREAD_COUNTS_MANY = f"""
SELECT u.user_id,
       (SELECT count(*) FROM notifications n WHERE n.user_id = u.user_id AND {UNREAD})
       AS unread_count
FROM unnest($1::uuid[]) AS u (user_id)
"""

# The channel mode (`channel_mode.py`, migration 0022): NULL for per-user channels, else the number
# of shard channels. No row (it was deleted) reads as NULL, as the triggers read it.
CHANNEL_MODE = "SELECT (SELECT shards FROM notify_channels)"

# A change of mode: the row's trigger waits for the notifying transactions in flight and
# NOTIFYs the listeners' control channel. $1 the number of shards, NULL for per-user.
SET_CHANNEL_MODE = "UPDATE notify_channels SET shards = $1 RETURNING shards"
