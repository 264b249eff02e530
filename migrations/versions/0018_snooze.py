"""Snooze: a notification leaves the inbox now and comes back as a new one at a chosen time.

- `notifications.snoozed_until`: set by `POST /notifications/{id}/snooze` together with
  `dismissed_at` (a snoozed notification is archived until then: the read-state trigger
  announces `dismissed` to every device and the unread count drops). The CHECK keeps it so: a
  row is never snoozed without being archived. `restore` clears both (`restored`).
- `vividly_wake_snoozed_v1(limit)`: brings back up to `limit` notifications whose time has come
  and returns how many. Each comes back as a **new row** made by the one create path,
  `vividly_create_notification_v2` (the user's lock, a fresh id, the NOTIFY): live streams get
  it as a new notification, a stream resuming from an older cursor replays it, push and digest
  treat it as new. The snoozed row is deleted in the same transaction (first, so the new one
  takes its (request, round) under `notifications_one_per_round`); its pushes and digest items
  go with it. A type the user has muted meanwhile does not come back, nor does a notification
  whose request has moved on (retried or answered since: the failure or the question is stale):
  that row only loses its snooze and stays archived.
- Several processes may run it at once: rows are claimed `FOR UPDATE SKIP LOCKED`, so each due
  row is brought back by exactly one of them, and users' locks are taken in user order (rows
  sorted by user, then id), so two wakers never deadlock on them (one user's rows taken in one
  batch come back in their old order; rows of two batches racing may swap).
- `notifications_snoozed_due`: the partial index the waker reads (only snoozed rows).

On a live table: the column is added alone first (no default: a catalog change, no rewrite),
then the index is built CONCURRENTLY (migrations/script.py; writes go on), then the rest. The
CHECK is added NOT VALID: every existing row has no snooze, so there is nothing to check, and
validating would scan the table under the ALTER's lock; new and changed rows are checked.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from migrations.script import create_index_concurrently, execute_script

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Committed before the index build: safe to run again (a run that gives up retries it all).
COLUMN = "ALTER TABLE notifications ADD COLUMN IF NOT EXISTS snoozed_until timestamptz"

UPGRADE = r"""
ALTER TABLE notifications ADD CONSTRAINT notifications_snoozed_is_archived
    CHECK (snoozed_until IS NULL OR dismissed_at IS NOT NULL) NOT VALID;

CREATE FUNCTION vividly_wake_snoozed_v1(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    due record;
    woken integer := 0;
BEGIN
    FOR due IN
        SELECT id, user_id, type, content_request_id, content_request_round, payload
        FROM notifications
        WHERE snoozed_until <= now()
        ORDER BY user_id, id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        IF EXISTS (
            SELECT 1 FROM notification_preferences
            WHERE user_id = due.user_id AND type = due.type AND NOT in_app
        ) OR EXISTS (
            SELECT 1 FROM content_requests
            WHERE id = due.content_request_id AND notify_round <> due.content_request_round
        ) THEN
            -- Muted meanwhile, or its request moved on (retried or answered: a new round):
            -- nothing comes back; it stays archived, no longer snoozed.
            UPDATE notifications SET snoozed_until = NULL WHERE id = due.id;
        ELSE
            DELETE FROM notifications WHERE id = due.id;
            -- `vividly.coming_back`: for triggers that shape a new notification's content, this
            -- one is not new (0019's copy keeps the text it was made with).
            PERFORM set_config('vividly.coming_back', 'on', true);
            PERFORM vividly_create_notification_v2(
                due.user_id, due.type, due.content_request_id, due.content_request_round,
                due.payload);
            PERFORM set_config('vividly.coming_back', 'off', true);
            woken := woken + 1;
        END IF;
    END LOOP;
    RETURN woken;
END
$$;
"""

DOWNGRADE = r"""
DROP FUNCTION vividly_wake_snoozed_v1(integer);
DROP INDEX notifications_snoozed_due;
ALTER TABLE notifications
    DROP CONSTRAINT notifications_snoozed_is_archived,
    DROP COLUMN snoozed_until;
"""


def upgrade() -> None:
    execute_script(COLUMN)
    create_index_concurrently(
        "notifications_snoozed_due",
        "ON notifications (snoozed_until) WHERE snoozed_until IS NOT NULL",
    )
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
