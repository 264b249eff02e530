"""Leave room on each page of `notifications` for its rows' later versions (fillfactor 85).

A notification is updated a few times after its insert (delivered, seen, opened, read). Rows are
inserted in time order, so at the default fillfactor (100) their page is full by then and almost
every update writes the new version to another page, with a new entry in each of the table's
indexes. With 15 % of each page left free at insert, an update that changes no indexed column
(MARK_DELIVERED) can stay on its page (HOT). Measured with `python -m bench.hot_ratio` (see
bench/RESULTS.md, "HOT updates"): delivery records went from 0 % HOT to ~13 %
(75 would give ~31 %).

Only pages written from now on are filled to 85 %; existing ones are left as they are (a table
rewrite would lock it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE notifications SET (fillfactor = 85);
"""

DOWNGRADE = r"""
ALTER TABLE notifications RESET (fillfactor);
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
