"""Per-user retention watermark: how far retention has deleted a user's notifications.

A stream cursor below the watermark cannot be replayed without a gap; the stream then sends
`event: reset` instead. Retention (prune) raises the watermark in the same transaction as its
DELETE.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from migrations.script import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE notification_retention (
            user_id uuid PRIMARY KEY,
            pruned_through_id bigint NOT NULL CHECK (pruned_through_id >= 0)
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE notification_retention;")
