"""A push whose outcome is unknown is never sent again: `sending` is a state of its own.

A claimed push was `pending` with a lease: a process killed after the push service accepted it
and before the commit left it pending, and once the lease ended another process sent it again.
Now the claim moves it to `sending`; only a known outcome moves it on (`sent`, `failed`,
`cancelled`, or back to `pending` for a retry after an answer that asks for one). A `sending`
row whose lease has ended is a send that may or may not have gone out: it is closed as `failed`
("outcome unknown") and not resent, so each notification is pushed at most once per
subscription, whatever happens to the processes. The push's own notification stays in history,
and the stream or the email digest still reach the student.

`notifications_push_pending` (0010) is dropped: the dispatcher reads recent notifications
through the BRIN index on `created_at` since its review fixes, and an index whose predicate
names `seen_at` made every seen report a non-HOT update.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_state_check;
ALTER TABLE push_deliveries ADD CONSTRAINT push_deliveries_state_check
    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')
           AND (state IN ('pending', 'sending')) = (finished_at IS NULL));
DROP INDEX push_deliveries_due;
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'sending');
DROP INDEX notifications_push_pending;
"""

DOWNGRADE = r"""
CREATE INDEX notifications_push_pending ON notifications (user_id, created_at)
    WHERE vividly_unread_v1(read_at, dismissed_at) AND seen_at IS NULL;
DROP INDEX push_deliveries_due;
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at) WHERE state = 'pending';
UPDATE push_deliveries SET state = 'pending' WHERE state = 'sending';
ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_state_check;
ALTER TABLE push_deliveries ADD CONSTRAINT push_deliveries_state_check
    CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')
           AND (state = 'pending') = (finished_at IS NULL));
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
