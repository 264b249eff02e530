"""The channel mode: per-user channels (the default) or a fixed number of shard channels.

- `notify_channels`: one row, `shards` NULL for per-user channels (`notifications:<user>`) or
  the number of shard channels (`notifications:shard:<k>`, 1 to 1024). The triggers and the
  listener both read it: one setting, never two that can drift (`service/live/channel_mode.py`).
- `vividly_notify_user_v1(user, message)`: the one way a user's NOTIFY is sent, on
  `vividly_notify_channel_v1(user, shards)`. Per-user: the message on the user's channel, as
  before. Shards: on shard k = hashtextextended(user) mod shards, the user added to the
  message as `user`. It first takes a shared advisory lock held
  to commit, so a change of mode waits for every notifying transaction that read the old one.
- The three senders go through it: a new notification (`vividly_create_notification_v2`,
  replaced in place: its callers, the content-request trigger and the snooze waker, and its
  contract are unchanged), read-state changes (`vividly_read_state_notify_v4`) and a request's
  progress (`vividly_content_request_progress_v2`).
- An UPDATE of the row (the `vividly-notify channels` command) takes that lock exclusively and
  NOTIFYs `notifications:mode`, which every listener LISTENs: NOTIFYs committed before it used
  the old channels, NOTIFYs after it the new ones.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from migrations.script import execute_script

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE notify_channels (
    id boolean PRIMARY KEY DEFAULT true CONSTRAINT notify_channels_one_row CHECK (id),
    shards integer CONSTRAINT notify_channels_shards CHECK (shards BETWEEN 1 AND 1024)
);
INSERT INTO notify_channels DEFAULT VALUES;

CREATE FUNCTION vividly_notify_channels_lock_key_v1() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended('vividly.notify_channels', 0)
$$;

-- PL/pgSQL, not SQL: called from PL/pgSQL, a SQL function is not inlined and costs ~0.05 ms
-- a call here (bench/RESULTS.md), more than the NOTIFY itself.
CREATE FUNCTION vividly_notify_channel_v1(p_user_id uuid, p_shards integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF p_shards IS NULL THEN
        RETURN 'notifications:' || p_user_id;
    END IF;
    RETURN 'notifications:shard:'
        || (hashtextextended(p_user_id::text, 0) % p_shards + p_shards) % p_shards;
END
$$;

CREATE FUNCTION vividly_notify_user_v1(p_user_id uuid, p_message jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    shard_count integer;
BEGIN
    -- Held to commit: a change of mode waits until this NOTIFY is in the queue. Taken before
    -- the mode is read, in a statement of its own: the read's snapshot sees a change that
    -- committed while this waited.
    PERFORM pg_advisory_xact_lock_shared(vividly_notify_channels_lock_key_v1());
    SELECT shards INTO shard_count FROM notify_channels;
    IF shard_count IS NULL THEN
        PERFORM pg_notify(vividly_notify_channel_v1(p_user_id, NULL), p_message::text);
    ELSE
        PERFORM pg_notify(
            vividly_notify_channel_v1(p_user_id, shard_count),
            (p_message || jsonb_build_object('user', p_user_id))::text
        );
    END IF;
END
$$;

CREATE FUNCTION vividly_notify_channels_changed_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(vividly_notify_channels_lock_key_v1());
    PERFORM pg_notify('notifications:mode', json_build_object('shards', NEW.shards)::text);
    RETURN NEW;
END
$$;

CREATE TRIGGER notify_channels_changed
    BEFORE UPDATE ON notify_channels
    FOR EACH ROW EXECUTE FUNCTION vividly_notify_channels_changed_v1();

CREATE OR REPLACE FUNCTION vividly_create_notification_v2(
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
        PERFORM vividly_notify_user_v1(
            p_user_id, jsonb_build_object('event', 'notification', 'id', new_id)
        );
    END IF;
    RETURN new_id;
END
$$;

CREATE FUNCTION vividly_read_state_notify_v4() RETURNS trigger LANGUAGE plpgsql AS $$
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
                   WHEN n.read_at IS NULL AND o.read_at IS NOT NULL THEN 'unread'
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE (n.read_at IS NULL) <> (o.read_at IS NULL)
           OR (n.dismissed_at IS NULL) <> (o.dismissed_at IS NULL)
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        -- Serialise with the user's other writers, then count in a fresh snapshot.
        PERFORM vividly_user_lock_v1(change.user_id);
        SELECT count(*) INTO unread FROM notifications
        WHERE user_id = change.user_id AND vividly_unread_v1(read_at, dismissed_at);
        PERFORM vividly_notify_user_v1(
            change.user_id,
            jsonb_build_object(
                'event', 'read_state', 'state', change.state,
                'ids', change.ids, 'changed', change.changed, 'up_to_id', change.up_to_id,
                'unread_count', unread
            )
        );
    END LOOP;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER notifications_read_state
    AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_v4();
DROP FUNCTION vividly_read_state_notify_v3();

CREATE FUNCTION vividly_content_request_progress_v2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM vividly_notify_user_v1(
        NEW.student_id,
        jsonb_build_object(
            'event', 'progress', 'content_id', NEW.id, 'status', NEW.status, 'stage', NEW.stage
        )
    );
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER content_requests_progress
    AFTER UPDATE ON content_requests
    FOR EACH ROW
    WHEN (NEW.stage IS DISTINCT FROM OLD.stage AND NEW.status IN ('pending', 'processing'))
    EXECUTE FUNCTION vividly_content_request_progress_v2();
DROP FUNCTION vividly_content_request_progress_v1();
"""

# The three senders as 0003, 0007 and 0017 made them (db/schema.sql before this revision).
DOWNGRADE = r"""
CREATE FUNCTION vividly_content_request_progress_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'notifications:' || NEW.student_id,
        json_build_object(
            'event', 'progress', 'content_id', NEW.id, 'status', NEW.status, 'stage', NEW.stage
        )::text
    );
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER content_requests_progress
    AFTER UPDATE ON content_requests
    FOR EACH ROW
    WHEN (NEW.stage IS DISTINCT FROM OLD.stage AND NEW.status IN ('pending', 'processing'))
    EXECUTE FUNCTION vividly_content_request_progress_v1();
DROP FUNCTION vividly_content_request_progress_v2();

CREATE FUNCTION vividly_read_state_notify_v3() RETURNS trigger LANGUAGE plpgsql AS $$
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
                   WHEN n.read_at IS NULL AND o.read_at IS NOT NULL THEN 'unread'
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE (n.read_at IS NULL) <> (o.read_at IS NULL)
           OR (n.dismissed_at IS NULL) <> (o.dismissed_at IS NULL)
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
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_v3();
DROP FUNCTION vividly_read_state_notify_v4();

CREATE OR REPLACE FUNCTION vividly_create_notification_v2(
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

DROP TRIGGER notify_channels_changed ON notify_channels;
DROP FUNCTION vividly_notify_channels_changed_v1();
DROP FUNCTION vividly_notify_user_v1(uuid, jsonb);
DROP FUNCTION vividly_notify_channel_v1(uuid, integer);
DROP FUNCTION vividly_notify_channels_lock_key_v1();
DROP TABLE notify_channels;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
