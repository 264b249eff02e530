"""The type registry carries what the UI shows; lock key, unread and payload said once in SQL.

- `notification_types.label` (short, a heading) and `description` (a sentence, for
  preferences) are what every client shows: `GET /api/v1/notifications/types` serves them (a
  type registered without a label shows its name). A new type is one INSERT (plus a new
  `vividly_request_notification_v1` when a content-request status produces it); no Python or
  JavaScript lists types.
- `vividly_user_lock_key_v1(user)`: the per-user advisory lock key; `vividly_user_lock_v1`
  takes its lock with it (same key as before, so old and new transactions still serialise).
- `vividly_unread_v1(read_at, dismissed_at)`: the unread condition. A SQL-language IMMUTABLE,
  non-STRICT function, so the planner inlines it in queries and in the partial index
  `notifications_user_unread`, whose predicate is now this function: the predicate and the
  queries cannot disagree, and the queries keep using the index. Rebuilding that index takes a
  write lock on `notifications` for the length of the build.
- `vividly_request_notification_v1(request)`: which notification (type, payload) a content
  request's status produces, or NULLs; the trigger function `..._notify_v3` only applies it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE notification_types ADD COLUMN label text CHECK (label <> '');
UPDATE notification_types AS t SET label = v.label, description = v.description
FROM (VALUES
    ('video_complete', 'Your video is ready',
     'A video you asked for is ready to watch.'),
    ('video_failed', 'We couldn''t make your video',
     'A video could not be made, and why.'),
    ('clarification_needed', 'We need a bit more detail',
     'A question needs more detail before its video can be made.')
) AS v (name, label, description)
WHERE t.name = v.name;

CREATE FUNCTION vividly_user_lock_key_v1(p_user_id uuid) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended('vividly.notifications:' || p_user_id::text, 0)
$$;

CREATE OR REPLACE FUNCTION vividly_user_lock_v1(p_user_id uuid) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(vividly_user_lock_key_v1(p_user_id))
$$;

-- Not STRICT: a strict function whose body is not strict is never inlined.
CREATE FUNCTION vividly_unread_v1(p_read_at timestamptz, p_dismissed_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_read_at IS NULL AND p_dismissed_at IS NULL
$$;

DROP INDEX notifications_user_unread;
CREATE INDEX notifications_user_unread ON notifications (user_id, id DESC)
    WHERE vividly_unread_v1(read_at, dismissed_at);

CREATE FUNCTION vividly_request_notification_v1(
    request content_requests, OUT type text, OUT payload jsonb
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE request.status
        WHEN 'completed' THEN
            type := 'video_complete';
            payload := jsonb_build_object(
                'content_id', request.id, 'title', request.title,
                'video_url', request.video_url, 'thumbnail_url', request.thumbnail_url,
                'duration_seconds', request.duration_seconds);
        WHEN 'failed' THEN
            type := 'video_failed';
            payload := jsonb_build_object(
                'content_id', request.id, 'title', request.title,
                'error_message', request.error_message);
        WHEN 'clarification_needed' THEN
            type := 'clarification_needed';
            payload := jsonb_build_object(
                'content_id', request.id, 'question', request.clarification_question);
        ELSE
            NULL;  -- this status notifies nobody
    END CASE;
END
$$;

CREATE FUNCTION vividly_content_request_notify_v3() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    made record;
BEGIN
    made := vividly_request_notification_v1(NEW);
    IF made.type IS NOT NULL THEN
        PERFORM vividly_create_notification_v2(
            NEW.student_id, made.type, NEW.id, NEW.notify_round, made.payload);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER content_requests_notify_insert
    AFTER INSERT ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v3();
CREATE OR REPLACE TRIGGER content_requests_notify_update
    AFTER UPDATE OF status ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          AND NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v3();
DROP FUNCTION vividly_content_request_notify_v2();

CREATE FUNCTION vividly_read_state_notify_v2() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change record;
    unread bigint;
BEGIN
    FOR change IN
        SELECT n.user_id,
               CASE
                   WHEN n.dismissed_at IS NOT NULL AND o.dismissed_at IS NULL THEN 'dismissed'
                   WHEN n.dismissed_at IS NULL AND o.dismissed_at IS NOT NULL THEN 'restored'
                   WHEN n.read_at IS NOT NULL AND o.read_at IS NULL THEN 'read'
                   ELSE 'unread'
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE n.read_at IS DISTINCT FROM o.read_at
           OR n.dismissed_at IS DISTINCT FROM o.dismissed_at
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        -- Serialise with the user's other writers, then count in a fresh snapshot.
        PERFORM vividly_user_lock_v1(change.user_id);
        SELECT count(*) INTO unread FROM notifications
        WHERE user_id = change.user_id AND vividly_unread_v1(read_at, dismissed_at);
        PERFORM pg_notify(
            'notifications:' || change.user_id,
            json_build_object(
                'event', 'read_state', 'state', change.state,
                'ids', change.ids, 'changed', change.changed, 'up_to_id', change.up_to_id,
                'unread_count', unread
            )::text
        );
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER notifications_read_state
    AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_v2();
DROP FUNCTION vividly_read_state_notify_v1();
"""

# The functions of 0003 come back verbatim (their SQL is theirs, not re-derived from the new
# helpers), so a downgraded database is the one 0004 left.
DOWNGRADE = r"""
CREATE FUNCTION vividly_read_state_notify_v1() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change record;
    unread bigint;
BEGIN
    FOR change IN
        SELECT n.user_id,
               CASE
                   WHEN n.dismissed_at IS NOT NULL AND o.dismissed_at IS NULL THEN 'dismissed'
                   WHEN n.dismissed_at IS NULL AND o.dismissed_at IS NOT NULL THEN 'restored'
                   WHEN n.read_at IS NOT NULL AND o.read_at IS NULL THEN 'read'
                   ELSE 'unread'
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE n.read_at IS DISTINCT FROM o.read_at
           OR n.dismissed_at IS DISTINCT FROM o.dismissed_at
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        -- Serialise with the user's other writers, then count in a fresh snapshot.
        PERFORM vividly_user_lock_v1(change.user_id);
        SELECT count(*) INTO unread FROM notifications
        WHERE user_id = change.user_id AND read_at IS NULL AND dismissed_at IS NULL;
        PERFORM pg_notify(
            'notifications:' || change.user_id,
            json_build_object(
                'event', 'read_state', 'state', change.state,
                'ids', change.ids, 'changed', change.changed, 'up_to_id', change.up_to_id,
                'unread_count', unread
            )::text
        );
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER notifications_read_state
    AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_v1();
DROP FUNCTION vividly_read_state_notify_v2();

CREATE FUNCTION vividly_content_request_notify_v2() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    body jsonb;
BEGIN
    CASE NEW.status
        WHEN 'completed' THEN
            kind := 'video_complete';
            body := jsonb_build_object(
                'content_id', NEW.id, 'title', NEW.title, 'video_url', NEW.video_url,
                'thumbnail_url', NEW.thumbnail_url, 'duration_seconds', NEW.duration_seconds);
        WHEN 'failed' THEN
            kind := 'video_failed';
            body := jsonb_build_object(
                'content_id', NEW.id, 'title', NEW.title, 'error_message', NEW.error_message);
        WHEN 'clarification_needed' THEN
            kind := 'clarification_needed';
            body := jsonb_build_object(
                'content_id', NEW.id, 'question', NEW.clarification_question);
        ELSE
            RETURN NULL;
    END CASE;
    PERFORM vividly_create_notification_v2(NEW.student_id, kind, NEW.id, NEW.notify_round, body);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER content_requests_notify_insert
    AFTER INSERT ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v2();
CREATE OR REPLACE TRIGGER content_requests_notify_update
    AFTER UPDATE OF status ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          AND NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v2();
DROP FUNCTION vividly_content_request_notify_v3();
DROP FUNCTION vividly_request_notification_v1(content_requests);

DROP INDEX notifications_user_unread;
CREATE INDEX notifications_user_unread ON notifications (user_id, id DESC)
    WHERE read_at IS NULL AND dismissed_at IS NULL;
DROP FUNCTION vividly_unread_v1(timestamptz, timestamptz);

CREATE OR REPLACE FUNCTION vividly_user_lock_v1(p_user_id uuid) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('vividly.notifications:' || p_user_id, 0))
$$;
DROP FUNCTION vividly_user_lock_key_v1(uuid);

UPDATE notification_types AS t SET description = v.description
FROM (VALUES
    ('video_complete', 'The requested video is ready to watch.'),
    ('video_failed', 'The video could not be produced.'),
    ('clarification_needed', 'The question needs a clarification before work can go on.')
) AS v (name, description)
WHERE t.name = v.name;
ALTER TABLE notification_types DROP COLUMN label;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
