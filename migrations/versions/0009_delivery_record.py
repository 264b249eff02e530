"""Each notification records how it first reached its user and what the user did with it.

`delivered_at`/`delivered_via` are set once, by whichever channel delivered it first: written to
an open stream (`stream`), accepted by a push service (`push`) or sent in an email digest
(`email`). `seen_at` is set when a client reports it was on screen, `opened_at` when the user
acted on it (Watch now, answer, a push or email click). Web Push and the email digest read these
columns to decide whom to reach elsewhere; the admin analytics aggregate them. The BRIN index on
`created_at` keeps a time-window aggregate off a full scan for the cost of a few pages (rows are
inserted in `created_at` order). `autosummarize` has autovacuum summarise each block range as it
fills: an unsummarised range matches every window, so without it the newest rows (those since the
last VACUUM) would all be read by every query.

The index is built CONCURRENTLY, before the rest (migrations/script.py): writes to
`notifications` go on while it builds. (Until 2026-12 it was built in the revision's
transaction; the index is the same.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from migrations.script import create_index_concurrently, execute_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Added NOT VALID and validated apart, so the check's scan does not hold the ACCESS EXCLUSIVE lock.
UPGRADE = r"""
ALTER TABLE notifications
    ADD COLUMN delivered_at timestamptz,
    ADD COLUMN delivered_via text,
    ADD COLUMN seen_at timestamptz,
    ADD COLUMN opened_at timestamptz,
    ADD CONSTRAINT notifications_delivered_via_check
        CHECK (delivered_via IN ('stream', 'push', 'email')
               AND (delivered_at IS NULL) = (delivered_via IS NULL)) NOT VALID;
ALTER TABLE notifications VALIDATE CONSTRAINT notifications_delivered_via_check;
"""

DOWNGRADE = r"""
DROP INDEX notifications_created_brin;
ALTER TABLE notifications
    DROP CONSTRAINT notifications_delivered_via_check,
    DROP COLUMN opened_at,
    DROP COLUMN seen_at,
    DROP COLUMN delivered_via,
    DROP COLUMN delivered_at;
"""


def upgrade() -> None:
    create_index_concurrently(
        "notifications_created_brin",
        "ON notifications USING brin (created_at) WITH (autosummarize = on)",
    )
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
