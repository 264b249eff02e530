"""Read state travels live; per-user, per-type delivery preferences.

- `notification_preferences`: a row only where a user changed the default (delivered in app).
  `vividly_create_notification_v2` creates nothing for a type the user muted.
- Every change of `read_at` / `dismissed_at` NOTIFYs the user's channel once per statement with
  `{"event": "read_state", "state", "ids" (up to 100) , "up_to_id", "unread_count"}`. The trigger
  takes the user's advisory lock before counting, so concurrent changes commit in the order of
  their counts and the last event carries the count that `/history` shows afterwards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from migrations.script import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE notification_preferences (
    user_id uuid NOT NULL,
    type text NOT NULL REFERENCES notification_types (name) ON DELETE CASCADE,
    in_app boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, type)
);

CREATE FUNCTION vividly_user_lock_v1(p_user_id uuid) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('vividly.notifications:' || p_user_id, 0))
$$;

CREATE FUNCTION vividly_create_notification_v2(
    p_user_id uuid, p_type text, p_content_request_id uuid, p_round integer, p_payload jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    IF EXISTS (
        SELECT 1 FROM notification_preferences
        WHERE user_id = p_user_id AND type = p_type AND NOT in_app
    ) THEN
        RETURN NULL;  -- muted: no row, no NOTIFY; the content request is unaffected
    END IF;
    -- Taken before the id is drawn and held to the end of the transaction: a later id of this
    -- user cannot commit before an earlier one, so "id > cursor" never skips a row.
    PERFORM vividly_user_lock_v1(p_user_id);
    INSERT INTO notifications (user_id, type, content_request_id, content_request_round, payload)
    VALUES (p_user_id, p_type, p_content_request_id, p_round, p_payload)
    ON CONFLICT (content_request_id, content_request_round) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        PERFORM pg_notify(
            'notifications:' || p_user_id,
            json_build_object('event', 'notification', 'id', new_id)::text
        );
    END IF;
    RETURN new_id;
END
$$;

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

DROP TRIGGER content_requests_notify_insert ON content_requests;
DROP TRIGGER content_requests_notify_update ON content_requests;
CREATE TRIGGER content_requests_notify_insert
    AFTER INSERT ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v2();
CREATE TRIGGER content_requests_notify_update
    AFTER UPDATE OF status ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          AND NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v2();
DROP FUNCTION vividly_content_request_notify_v1();
DROP FUNCTION vividly_create_notification_v1(uuid, text, uuid, integer, jsonb);

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

CREATE TRIGGER notifications_read_state
    AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_v1();
"""

DOWNGRADE = r"""
DROP TRIGGER notifications_read_state ON notifications;
DROP FUNCTION vividly_read_state_notify_v1();

CREATE FUNCTION vividly_create_notification_v1(
    p_user_id uuid, p_type text, p_content_request_id uuid, p_round integer, p_payload jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('vividly.notifications:' || p_user_id, 0));
    INSERT INTO notifications (user_id, type, content_request_id, content_request_round, payload)
    VALUES (p_user_id, p_type, p_content_request_id, p_round, p_payload)
    ON CONFLICT (content_request_id, content_request_round) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        PERFORM pg_notify(
            'notifications:' || p_user_id,
            json_build_object('event', 'notification', 'id', new_id)::text
        );
    END IF;
    RETURN new_id;
END
$$;

CREATE FUNCTION vividly_content_request_notify_v1() RETURNS trigger LANGUAGE plpgsql AS $$
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
    PERFORM vividly_create_notification_v1(NEW.student_id, kind, NEW.id, NEW.notify_round, body);
    RETURN NULL;
END
$$;

DROP TRIGGER content_requests_notify_insert ON content_requests;
DROP TRIGGER content_requests_notify_update ON content_requests;
CREATE TRIGGER content_requests_notify_insert
    AFTER INSERT ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v1();
CREATE TRIGGER content_requests_notify_update
    AFTER UPDATE OF status ON content_requests
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          AND NEW.status IN ('completed', 'failed', 'clarification_needed'))
    EXECUTE FUNCTION vividly_content_request_notify_v1();
DROP FUNCTION vividly_content_request_notify_v2();
DROP FUNCTION vividly_create_notification_v2(uuid, text, uuid, integer, jsonb);
DROP FUNCTION vividly_user_lock_v1(uuid);
DROP TABLE notification_preferences;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
