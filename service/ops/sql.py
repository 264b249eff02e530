"""SQL of retention: what is old enough to delete, and the watermark that says so."""

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
