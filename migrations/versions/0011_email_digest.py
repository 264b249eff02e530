"""Email digests: per-student preferences, and an outbox whose rows own what they contain.

`email_digest_preferences` holds a student's address, period and opt-in, and when their next
digest may be made (`next_digest_at`, always at least one period after the previous one).
`email_digests` is the outbox: one row per digest, with its send state (attempts, next attempt,
last error, the SMTP server's reply once accepted). `email_digest_items` gives each notification
to at most one digest: its primary key is the notification id, so no notification can be in two
digests whatever runs concurrently. A student has at most one unsent digest at a time
(`email_digests_one_open_per_user`). An item goes when retention deletes its notification.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE email_digest_preferences (
    user_id uuid PRIMARY KEY,
    address text NOT NULL CHECK (length(address) BETWEEN 3 AND 320 AND address LIKE '%_@_%'),
    period text NOT NULL CHECK (period IN ('hourly', 'daily', 'weekly')),
    opted_in boolean NOT NULL,
    opted_in_at timestamptz NOT NULL DEFAULT now(),
    next_digest_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- The sender's "whose digest is due": opted-in students by the time their next one may be made.
CREATE INDEX email_digest_preferences_due ON email_digest_preferences (next_digest_at)
    WHERE opted_in;

CREATE TABLE email_digests (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL,
    message_uuid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- pending: when to try (again); sending: when the sender's lease runs out.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_by text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    smtp_reply text,
    sent_count integer CHECK (sent_count >= 0),
    CONSTRAINT email_digests_sent_check
        CHECK ((state = 'sent') = (sent_at IS NOT NULL AND smtp_reply IS NOT NULL))
);
CREATE INDEX email_digests_due ON email_digests (next_attempt_at)
    WHERE state IN ('pending', 'sending');
CREATE UNIQUE INDEX email_digests_one_open_per_user ON email_digests (user_id)
    WHERE state IN ('pending', 'sending');
CREATE INDEX email_digests_user_newest ON email_digests (user_id, id DESC);

CREATE TABLE email_digest_items (
    notification_id bigint PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    digest_id bigint NOT NULL REFERENCES email_digests (id) ON DELETE CASCADE
);
CREATE INDEX email_digest_items_digest ON email_digest_items (digest_id);
"""

DOWNGRADE = r"""
DROP TABLE email_digest_items;
DROP TABLE email_digests;
DROP TABLE email_digest_preferences;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
