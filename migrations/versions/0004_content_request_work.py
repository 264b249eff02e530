"""What the worker needs: the question, the claim and lease, and a wake-up for new work.

- `question` (what the student asked) and `clarification_answer` (their answer, if asked).
- A claim is `status = 'processing'` plus `claimed_by` and `lease_expires_at`; a worker extends
  its lease while it works. A request whose lease expired is claimable again (its worker died);
  `attempts` counts claims, so a request that keeps killing workers ends in `failed`.
- `content_requests:pending` is NOTIFYed when a request becomes pending (created, or sent back
  by a clarification answer or a released claim), so idle workers wake at once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from migrations.script import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE content_requests
    ADD COLUMN question text,
    ADD COLUMN clarification_answer text,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN claimed_by text,
    ADD COLUMN lease_expires_at timestamptz;

-- Claiming: the oldest pending request, or a processing one whose lease ran out.
CREATE INDEX content_requests_pending ON content_requests (created_at) WHERE status = 'pending';
CREATE INDEX content_requests_leased ON content_requests (lease_expires_at)
    WHERE status = 'processing';

CREATE FUNCTION vividly_content_request_pending_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('content_requests:pending', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER content_requests_pending_insert
    AFTER INSERT ON content_requests
    FOR EACH ROW WHEN (NEW.status = 'pending')
    EXECUTE FUNCTION vividly_content_request_pending_v1();
CREATE TRIGGER content_requests_pending_update
    AFTER UPDATE OF status ON content_requests
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status IS DISTINCT FROM 'pending')
    EXECUTE FUNCTION vividly_content_request_pending_v1();
"""

DOWNGRADE = r"""
DROP TRIGGER content_requests_pending_update ON content_requests;
DROP TRIGGER content_requests_pending_insert ON content_requests;
DROP FUNCTION vividly_content_request_pending_v1();
DROP INDEX content_requests_leased;
DROP INDEX content_requests_pending;
ALTER TABLE content_requests
    DROP COLUMN lease_expires_at,
    DROP COLUMN claimed_by,
    DROP COLUMN attempts,
    DROP COLUMN clarification_answer,
    DROP COLUMN question;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
