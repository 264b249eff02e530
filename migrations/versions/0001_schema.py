"""Content requests, notifications and the trigger that connects them.

Guarantees (all enforced inside Postgres, in the transaction of the worker's write):
- A content request entering completed, failed or clarification_needed creates exactly one
  notification row and one NOTIFY on `notifications:<user_id>`; both exist iff the write commits.
- One notification per request per round: a round starts when the request is inserted and again
  each time it goes back to pending from a final status (a clarification answered, a retry).
  A worker re-applying a transition inside a round creates nothing and notifies nothing.
- Per-user commit order: notification ids of one user become visible in increasing order, because
  every insert takes the user's transaction-level advisory lock before it draws its id, and holds
  it until its transaction has committed and become visible.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from migrations.script import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = r"""
CREATE TYPE content_request_status AS ENUM
    ('pending', 'processing', 'completed', 'failed', 'clarification_needed');

CREATE TABLE content_requests (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id uuid NOT NULL,
    status content_request_status NOT NULL DEFAULT 'pending',
    title text,
    video_url text,
    thumbnail_url text,
    duration_seconds integer CHECK (duration_seconds >= 0),
    error_message text,
    clarification_question text,
    notify_round integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX content_requests_student_newest
    ON content_requests (student_id, created_at DESC, id DESC);

-- One row per notification type: adding a type is one INSERT (plus its payload in the
-- content-request trigger when a status produces it).
CREATE TABLE notification_types (
    name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    description text NOT NULL
);
INSERT INTO notification_types (name, description) VALUES
    ('video_complete', 'The requested video is ready to watch.'),
    ('video_failed', 'The video could not be produced.'),
    ('clarification_needed', 'The question needs a clarification before work can go on.');

CREATE TABLE notifications (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL,
    type text NOT NULL REFERENCES notification_types (name),
    content_request_id uuid REFERENCES content_requests (id) ON DELETE SET NULL,
    content_request_round integer,
    payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    dismissed_at timestamptz,
    CHECK ((content_request_id IS NULL) OR (content_request_round IS NOT NULL))
);
-- History paging: WHERE user_id = $1 AND id < $2 ORDER BY id DESC.
CREATE INDEX notifications_user_newest ON notifications (user_id, id DESC);
-- Unread counts and unread-only paging touch only unread, non-archived rows.
CREATE INDEX notifications_user_unread ON notifications (user_id, id DESC)
    WHERE read_at IS NULL AND dismissed_at IS NULL;
-- At most one notification per content request per round.
CREATE UNIQUE INDEX notifications_one_per_round
    ON notifications (content_request_id, content_request_round);

-- The one way to create a notification: per-user ordered, idempotent, and NOTIFYing.
-- Returns the new id, or NULL when the (request, round) already has its notification.
CREATE FUNCTION vividly_create_notification_v1(
    p_user_id uuid, p_type text, p_content_request_id uuid, p_round integer, p_payload jsonb
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    -- Taken before the id is drawn and held to the end of the transaction: a later id of this
    -- user cannot commit before an earlier one, so "id > cursor" never skips a row.
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

CREATE FUNCTION vividly_content_request_touch_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.status = 'pending'
       AND OLD.status IN ('completed', 'failed', 'clarification_needed') THEN
        NEW.notify_round := OLD.notify_round + 1;
    END IF;
    RETURN NEW;
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

CREATE TRIGGER content_requests_touch
    BEFORE UPDATE ON content_requests
    FOR EACH ROW EXECUTE FUNCTION vividly_content_request_touch_v1();

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
"""

DROP = r"""
DROP TRIGGER content_requests_notify_update ON content_requests;
DROP TRIGGER content_requests_notify_insert ON content_requests;
DROP TRIGGER content_requests_touch ON content_requests;
DROP FUNCTION vividly_content_request_notify_v1();
DROP FUNCTION vividly_content_request_touch_v1();
DROP FUNCTION vividly_create_notification_v1(uuid, text, uuid, integer, jsonb);
DROP TABLE notifications;
DROP TABLE notification_types;
DROP TABLE content_requests;
DROP TYPE content_request_status;
"""


def upgrade() -> None:
    execute_script(SCHEMA)


def downgrade() -> None:
    execute_script(DROP)
