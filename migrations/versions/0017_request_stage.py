"""Content requests: the pipeline stage a request is in, told to the student live.

`stage` is the stage the worker holding the request entered last (`nlu`, `rag`, `script`,
`tts`, `video` for the pipeline of today; any short lower-case name for a later one). It is
only ever set while the request is `processing`: a BEFORE trigger clears it whenever a row is
written with any other status (finished, released, retried), so no writer has to remember to.

A change of stage on a request still in flight NOTIFYs the student's channel with
`{"event": "progress", "content_id", "status", "stage"}`, in the worker's own transaction (so
only committed stages are heard). The listener turns it into the stream's named `progress`
event; it creates no notification and is never replayed: a client that reconnects reads the
stage from `GET /api/v1/content-requests`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from migrations.script import execute_script

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

UPGRADE = r"""
ALTER TABLE content_requests ADD COLUMN stage text
    CONSTRAINT content_requests_stage_name CHECK (stage ~ '^[a-z][a-z_]{0,31}$');

CREATE FUNCTION vividly_content_request_stage_clear_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.stage := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER content_requests_stage_clear
    BEFORE INSERT OR UPDATE ON content_requests
    FOR EACH ROW
    WHEN (NEW.stage IS NOT NULL AND NEW.status <> 'processing')
    EXECUTE FUNCTION vividly_content_request_stage_clear_v1();

CREATE FUNCTION vividly_content_request_progress_v1() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'notifications:' || NEW.student_id,
        json_build_object(
            'event', 'progress', 'content_id', NEW.id, 'status', NEW.status, 'stage', NEW.stage
        )::text
    );
    RETURN NULL;
END
$$;

-- A finished request is told by its notification; only stages of requests in flight here
-- (a released one too: back to pending, its stage cleared). Not `UPDATE OF stage`: the clear
-- above is not in the statement's SET list.
CREATE TRIGGER content_requests_progress
    AFTER UPDATE ON content_requests
    FOR EACH ROW
    WHEN (NEW.stage IS DISTINCT FROM OLD.stage AND NEW.status IN ('pending', 'processing'))
    EXECUTE FUNCTION vividly_content_request_progress_v1();
"""

DOWNGRADE = r"""
DROP TRIGGER content_requests_progress ON content_requests;
DROP FUNCTION vividly_content_request_progress_v1();
DROP TRIGGER content_requests_stage_clear ON content_requests;
DROP FUNCTION vividly_content_request_stage_clear_v1();
ALTER TABLE content_requests DROP COLUMN stage;
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
