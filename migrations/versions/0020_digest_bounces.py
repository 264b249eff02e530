"""Hard bounces of the email digest: an address refused for good a few times in a row is
suspended.

- `email_digest_preferences.hard_bounces`: permanent (5xx) refusals of the address in a row;
  an accepted digest sets it back to 0.
- `suspended_at` / `suspended_reason`: set when `hard_bounces` reaches DIGEST_BOUNCE_LIMIT (the
  latest refusal as the reason, without the address); while set no digest is made for the
  student. Saving the preference again or confirming the address clears all three.
- Adding nullable columns and one with a constant default rewrites nothing (PostgreSQL 11+).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from migrations.script import execute_script

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE email_digest_preferences
    ADD COLUMN hard_bounces integer NOT NULL DEFAULT 0 CHECK (hard_bounces >= 0),
    ADD COLUMN suspended_at timestamptz,
    ADD COLUMN suspended_reason text CHECK (length(suspended_reason) <= 300);
"""

DOWNGRADE = r"""
ALTER TABLE email_digest_preferences
    DROP COLUMN hard_bounces,
    DROP COLUMN suspended_at,
    DROP COLUMN suspended_reason;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
