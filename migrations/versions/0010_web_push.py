"""Web Push: browsers' push subscriptions, and one delivery row per notification and device.

`push_subscriptions` holds one row per browser push endpoint (unique: the same endpoint
subscribed again, by whichever user, is that row, moved). `push_deliveries` holds, per
(notification, subscription), the state of its push: the primary key makes "at most once per
subscription" a property of the table, whichever process or restart tries. A pending row is
claimed by moving `next_attempt_at` past a lease (FOR UPDATE SKIP LOCKED), so two dispatchers
never send it together; a failed send sets `next_attempt_at` to the retry time.

`notifications_push_pending` kept the dispatcher's first search for "unread, unseen
notifications of subscribed users in the last TTL" on an index range per user. The dispatcher
now reads only recent notifications through `notifications_created_brin` (PUSH_ENQUEUE in
service/channels/push/sql.py), so this index is unused: a later revision may drop it.

That index is built CONCURRENTLY, before the rest (migrations/script.py): writes to
`notifications` go on while it builds. (Until 2026-12 it was built in the revision's transaction,
`IF NOT EXISTS` so that an operator could build it by hand first; one built so is still kept.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from migrations.script import create_index_concurrently, execute_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE push_subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT push_subscriptions_endpoint_key UNIQUE (endpoint),
    CONSTRAINT push_subscriptions_endpoint_check
        CHECK (endpoint ~ '^https?://' AND length(endpoint) <= 2048),
    CONSTRAINT push_subscriptions_p256dh_check CHECK (p256dh ~ '^[A-Za-z0-9_-]{87}$'),
    CONSTRAINT push_subscriptions_auth_check CHECK (auth ~ '^[A-Za-z0-9_-]{22}$')
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, updated_at);

CREATE TABLE push_deliveries (
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    subscription_id bigint NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    last_error text,
    PRIMARY KEY (notification_id, subscription_id),
    CONSTRAINT push_deliveries_state_check
        CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')
               AND (state = 'pending') = (finished_at IS NULL)),
    CONSTRAINT push_deliveries_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX push_deliveries_subscription ON push_deliveries (subscription_id);
"""

DOWNGRADE = r"""
DROP INDEX notifications_push_pending;
DROP TABLE push_deliveries;
DROP TABLE push_subscriptions;
"""


def upgrade() -> None:
    create_index_concurrently(
        "notifications_push_pending",
        "ON notifications (user_id, created_at)"
        " WHERE vividly_unread_v1(read_at, dismissed_at) AND seen_at IS NULL",
    )
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
