"""Email digest: every confirmation email sent, kept for a day, so its limits outlive the address.

The 10-minute limit per student lived on the preference row (`confirmation_sent_at`), and
deleting the preference deleted it: PUT an address, DELETE, PUT again mailed that address as
often as one could ask. Each send is now a row of its own here, which no preference change
touches: the limit per student (one per 10 minutes) and the limit per recipient address (3 a
day, whoever asks) are counted from it. `address_key` is the address as a mailbox receives it
(service/digest/addresses.py: `mailbox_key`), so case and `+tag` variants count as one.
Rows older than a day count for nothing and are deleted as new ones are taken.

`confirmation_sent_at` stays on the preference: when the current address was last mailed its
link, which the page shows.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from migrations.script import execute_script

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE email_confirmation_sends (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL,
    address_key text NOT NULL CHECK (length(address_key) BETWEEN 3 AND 320),
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_confirmation_sends_user ON email_confirmation_sends (user_id, sent_at);
CREATE INDEX email_confirmation_sends_address ON email_confirmation_sends (address_key, sent_at);
CREATE INDEX email_confirmation_sends_sent ON email_confirmation_sends (sent_at);
INSERT INTO email_confirmation_sends (user_id, address_key, sent_at)
SELECT user_id, lower(address), confirmation_sent_at FROM email_digest_preferences
WHERE confirmation_sent_at > now() - interval '1 day';
"""

DOWNGRADE = r"""
DROP TABLE email_confirmation_sends;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
