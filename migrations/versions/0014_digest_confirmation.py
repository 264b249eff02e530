"""Email digest: double opt-in. An address gets digests only once its owner confirmed it.

`confirmed_at` is when the current address was confirmed (a signed link mailed to it, followed
with a POST); it is cleared whenever the address changes. `confirmation_sent_at` is when the
latest confirmation email went out (one per student per 10 minutes at most, whatever the
address). Rows from before this revision start unconfirmed: their students confirm once.

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE email_digest_preferences
    ADD COLUMN confirmed_at timestamptz,
    ADD COLUMN confirmation_sent_at timestamptz;
"""

DOWNGRADE = r"""
ALTER TABLE email_digest_preferences
    DROP COLUMN confirmation_sent_at,
    DROP COLUMN confirmed_at;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
