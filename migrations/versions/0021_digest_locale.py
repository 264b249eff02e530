"""The student's language and time zone for the email digest, and when it was turned off.

- `email_digest_preferences.locale`: a BCP 47 language tag (e.g. `pt-BR`), the one the student
  asked for when saving the preference, else their browser's first Accept-Language; null when
  neither named one. The digest and the confirmation email mark the student's own words (their
  questions, their videos' titles) with it (`lang`).
- `email_digest_preferences.time_zone`: an IANA time zone name (e.g. `Europe/Lisbon`), the
  one the student's browser reported when saving the preference (the API checks it against
  zoneinfo); null when never reported. The digest shows each notification's date and time in it
  (in UTC, labelled so, when null or no longer known).
- `email_digest_preferences.opted_out_at`: when the digest was turned off (by the email's
  unsubscribe link, or by saving it off), null while it is on or when not known (turned off
  before this migration); the preferences page says it.
- Nullable columns with CHECKs: nothing is rewritten; the checks validate existing rows, all
  null.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from migrations.script import execute_script

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE email_digest_preferences
    ADD COLUMN locale text
        CHECK (length(locale) <= 35 AND locale ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'),
    ADD COLUMN time_zone text
        CHECK (length(time_zone) BETWEEN 1 AND 64),
    ADD COLUMN opted_out_at timestamptz;
"""

DOWNGRADE = r"""
ALTER TABLE email_digest_preferences DROP COLUMN locale, DROP COLUMN time_zone,
    DROP COLUMN opted_out_at;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
