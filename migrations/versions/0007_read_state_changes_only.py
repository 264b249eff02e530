"""A read-state NOTIFY says only what changed: `read`, `unread`, `dismissed` or `restored`.

`vividly_read_state_notify_v2` announced any UPDATE of `read_at` as a change of state: setting
`read_at` again on a row that was already read (a new timestamp, same state) fell into its
`ELSE 'unread'` branch, and every open tab showed a read notification as unread. v3 compares
read-ness and dismissed-ness, not timestamps: a row whose state did not change is not announced.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE FUNCTION vividly_read_state_notify_{version}() RETURNS trigger LANGUAGE plpgsql AS $$
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
                   {unread_case}
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE {changed}
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
    FOR EACH STATEMENT EXECUTE FUNCTION vividly_read_state_notify_{version}();
DROP FUNCTION vividly_read_state_notify_{previous}();
"""

V3 = FUNCTION.format(
    version="v3",
    previous="v2",
    unread_case="WHEN n.read_at IS NULL AND o.read_at IS NOT NULL THEN 'unread'",
    changed="(n.read_at IS NULL) <> (o.read_at IS NULL)\n"
    "           OR (n.dismissed_at IS NULL) <> (o.dismissed_at IS NULL)",
)
V2 = FUNCTION.format(
    version="v2",
    previous="v3",
    unread_case="ELSE 'unread'",
    changed="n.read_at IS DISTINCT FROM o.read_at\n"
    "           OR n.dismissed_at IS DISTINCT FROM o.dismissed_at",
)


def upgrade() -> None:
    execute_script(V3)


def downgrade() -> None:
    execute_script(V2)
