"""SQL of retention: what is old enough to delete, and the watermark that says so."""

# Retention, one replica at a time: a session-level lock held by the run's connection for the
# whole run (released at its end, or with the session); a replica that does not get it skips.
RETENTION_LOCK = "SELECT pg_try_advisory_lock(hashtext('vividly_retention'))"
RETENTION_UNLOCK = "SELECT pg_advisory_unlock(hashtext('vividly_retention'))"

# The newest notification old enough to go: the batches below walk ids up to it, no further.
# OFFSET 0 keeps the planner from answering max() by walking the primary key backwards through
# every newer row; this reads the old rows' pages once (through notifications_created_brin).
PRUNE_BOUND = """
SELECT max(id) FROM (SELECT id FROM notifications WHERE created_at < $1 OFFSET 0) AS old
"""

# Retention: delete up to $4 read or archived rows older than the cutoff $1 with ids in
# ($2, $3], in id order (never a snoozed one: it waits to come back), and raise each user's
# watermark in the same statement, so a stream cursor below a deleted row gets `reset`. Rows
# locked by a writer (being marked read or delivered) are skipped, not waited for: the next run
# takes them. Returns how many went and the last id looked at (where the next batch starts).
PRUNE = """
WITH batch AS (
    SELECT id FROM notifications
    WHERE id > $2 AND id <= $3 AND created_at < $1
      AND (read_at IS NOT NULL OR dismissed_at IS NOT NULL)
      AND snoozed_until IS NULL
    ORDER BY id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM notifications n USING batch b WHERE n.id = b.id
    RETURNING n.user_id, n.id
), watermarks AS (
    INSERT INTO notification_retention (user_id, pruned_through_id)
    SELECT user_id, max(id) FROM deleted GROUP BY user_id
    ON CONFLICT (user_id) DO UPDATE
    SET pruned_through_id = GREATEST(
        notification_retention.pruned_through_id, EXCLUDED.pruned_through_id
    )
)
SELECT (SELECT count(*) FROM deleted) AS deleted, (SELECT max(id) FROM batch) AS last_id,
       (SELECT count(*) FROM batch) AS looked_at
"""

# Retention of content requests: finished ones last changed before the cutoff whose
# notifications are gone (pruned, or never created); their media files go with them. A request
# with a notification still unread keeps its video. At most $2 per statement.
PRUNE_REQUESTS = """
DELETE FROM content_requests
WHERE id IN (
    SELECT r.id FROM content_requests r
    WHERE r.status IN ('completed', 'failed', 'clarification_needed') AND r.updated_at < $1
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.content_request_id = r.id)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""

# Retention of the digest outbox: digests that ended before the cutoff and own no notification
# any more (unsent ones released theirs; a sent one's go when retention deletes them, so a still
# unread notification keeps the record that it was mailed and is never mailed again).
PRUNE_DIGESTS = """
WITH deleted AS (
    DELETE FROM email_digests
    WHERE id IN (
        SELECT d.id FROM email_digests d
        WHERE d.state IN ('sent', 'failed', 'cancelled') AND d.created_at < $1
          AND NOT EXISTS (SELECT 1 FROM email_digest_items i WHERE i.digest_id = d.id)
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    )
    RETURNING 1
)
SELECT count(*) FROM deleted
"""
