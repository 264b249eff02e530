"""Fair claim order: each student's requests are served in rounds, one per student per round.

- `content_requests.fair_round`: set when a request becomes pending (created, or sent back by a
  clarification answer or a retry; a released claim keeps its round). A student's request is
  queued one round after their newest open (pending or processing) one; a student with nothing
  open joins the round being served now (the highest round of any request that left pending).
- Workers claim pending requests by (`fair_round`, `created_at`): a student who queued fifty
  questions gets one claimed per round, and another student's question waits for at most the
  claims of the round being served (`tests/requests/test_fairness.py`).
- Indexes keep the claim, and the two lookups of the trigger, to a few index pages each.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from migrations.script import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE content_requests ADD COLUMN fair_round bigint NOT NULL DEFAULT 0;

DROP INDEX content_requests_pending;
CREATE INDEX content_requests_pending ON content_requests (fair_round, created_at)
    WHERE status = 'pending';
-- The round being served: the highest round of a request that left pending.
CREATE INDEX content_requests_served_round ON content_requests (fair_round)
    WHERE status <> 'pending';
-- A student's open requests: the per-student cap counts them, a new one queues behind them.
CREATE INDEX content_requests_student_open ON content_requests (student_id, fair_round)
    WHERE status IN ('pending', 'processing');

CREATE FUNCTION vividly_content_request_fair_round_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.fair_round := GREATEST(
        (SELECT COALESCE(max(fair_round), 0) FROM content_requests WHERE status <> 'pending'),
        (SELECT COALESCE(max(fair_round) + 1, 0) FROM content_requests
         WHERE student_id = NEW.student_id AND status IN ('pending', 'processing')
           AND id <> NEW.id)
    );
    RETURN NEW;
END
$$;

CREATE TRIGGER content_requests_fair_round_insert
    BEFORE INSERT ON content_requests
    FOR EACH ROW WHEN (NEW.status = 'pending')
    EXECUTE FUNCTION vividly_content_request_fair_round_v1();
CREATE TRIGGER content_requests_fair_round_requeue
    BEFORE UPDATE OF status ON content_requests
    FOR EACH ROW WHEN (
        NEW.status = 'pending' AND OLD.status IN ('completed', 'failed', 'clarification_needed')
    )
    EXECUTE FUNCTION vividly_content_request_fair_round_v1();
"""

DOWNGRADE = r"""
DROP TRIGGER content_requests_fair_round_requeue ON content_requests;
DROP TRIGGER content_requests_fair_round_insert ON content_requests;
DROP FUNCTION vividly_content_request_fair_round_v1();
DROP INDEX content_requests_student_open;
DROP INDEX content_requests_served_round;
DROP INDEX content_requests_pending;
CREATE INDEX content_requests_pending ON content_requests (created_at) WHERE status = 'pending';
ALTER TABLE content_requests DROP COLUMN fair_round;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
