"""A request whose worker died is reclaimed in its fair order, not only when nothing is pending.

The claim took a processing request with an expired lease only when no request was pending:
under a steady queue an orphaned request (its worker crashed) waited until the queue emptied.
The claim now takes whichever comes first in fair order (`fair_round`, `created_at`, migration
0006) of the first pending request and the first orphan; this index reads the orphans in that
order (processing rows are few: one per live worker, plus orphans). It replaces
`content_requests_leased` (by expiry), which nothing reads any more.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = r"""
DROP INDEX content_requests_leased;
CREATE INDEX content_requests_processing ON content_requests (fair_round, created_at)
    WHERE status = 'processing';
"""

DOWNGRADE = r"""
DROP INDEX content_requests_processing;
CREATE INDEX content_requests_leased ON content_requests (lease_expires_at)
    WHERE status = 'processing';
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
