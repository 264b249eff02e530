"""SQL of content requests: asking, listing, the per-student cap, and the worker's claims."""

REQUEST_COLUMNS = (
    "id, student_id, status, question, title, video_url, thumbnail_url, duration_seconds,"
    " error_message, clarification_question, clarification_answer, stage, created_at, updated_at"
)

CREATE_REQUEST = f"""
INSERT INTO content_requests (student_id, question) VALUES ($1, $2) RETURNING {REQUEST_COLUMNS}
"""

REQUEST_OF_STUDENT = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests WHERE id = $1 AND student_id = $2
"""

# Newest first, keyset paged on (created_at, id) with the content_requests_student_newest index.
# The cursor is the id of the last item seen; another user's id matches nothing.
REQUESTS_FIRST_PAGE = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests
WHERE student_id = $1
ORDER BY created_at DESC, id DESC
LIMIT $2
"""

REQUESTS_PAGE_AFTER = f"""
SELECT {REQUEST_COLUMNS} FROM content_requests
WHERE student_id = $1 AND (created_at, id) < (
    SELECT created_at, id FROM content_requests WHERE id = $3 AND student_id = $1
)
ORDER BY created_at DESC, id DESC
LIMIT $2
"""

# The per-student cap on open requests (`open_requests.py`). The lock serialises one
# student's admissions (creation, retry) to the end of the transaction, so two at once cannot
# both see room for one; the count reads the partial index content_requests_student_open.
LOCK_STUDENT_REQUESTS = """
SELECT pg_advisory_xact_lock(hashtextextended('vividly:content_requests:' || $1::uuid::text, 0))
"""

OPEN_REQUEST_COUNT = """
SELECT count(*) FROM content_requests
WHERE student_id = $1 AND status IN ('pending', 'processing')
"""

# A failed request goes back to the queue as it was asked: the failure is cleared and its claims
# start over. Leaving `failed` for `pending` wakes a worker (the pending trigger) and starts a new
# notification round (the touch trigger), so its next final status notifies again.
REOPEN_FAILED = f"""
UPDATE content_requests
SET status = 'pending', error_message = NULL, attempts = 0, claimed_by = NULL,
    lease_expires_at = NULL
WHERE id = $1 AND student_id = $2 AND status = 'failed'
RETURNING {REQUEST_COLUMNS}
"""

ANSWER_CLARIFICATION = f"""
UPDATE content_requests SET status = 'pending', clarification_answer = $3, attempts = 0
WHERE id = $1 AND student_id = $2 AND status = 'clarification_needed'
RETURNING {REQUEST_COLUMNS}
"""

# The first in fair order (the lowest round, then the oldest: one request per student per round,
# migration 0006) of the first pending request and the first processing one whose worker stopped
# renewing its lease (an orphan, migration 0008): an orphan is not starved by a busy queue.
# SKIP LOCKED: concurrent workers never wait on, nor take, the same row. Both candidates are
# locked until this statement commits; the other workers skip the one not taken meanwhile.
CLAIM = """
WITH waiting AS (
    -- Each lookup reads its partial index in order (an OR of both would sort every pending row
    -- on each claim).
    SELECT id, fair_round, created_at FROM content_requests WHERE status = 'pending'
    ORDER BY fair_round, created_at LIMIT 1 FOR UPDATE SKIP LOCKED
), orphan AS (
    SELECT id, fair_round, created_at FROM content_requests
    WHERE status = 'processing' AND lease_expires_at < now()
    ORDER BY fair_round, created_at LIMIT 1 FOR UPDATE SKIP LOCKED
)
UPDATE content_requests
SET status = 'processing', claimed_by = $1, attempts = attempts + 1, stage = NULL,
    lease_expires_at = now() + make_interval(secs => $2)
WHERE id = (
    SELECT CASE
        WHEN orphan.id IS NULL THEN waiting.id
        WHEN waiting.id IS NULL THEN orphan.id
        WHEN (orphan.fair_round, orphan.created_at) < (waiting.fair_round, waiting.created_at)
            THEN orphan.id
        ELSE waiting.id
    END
    FROM (SELECT) AS one LEFT JOIN waiting ON true LEFT JOIN orphan ON true
)
RETURNING id, student_id, question, clarification_question, clarification_answer, attempts
"""

# Every write below is guarded by the claim: a worker that lost its lease changes nothing.
RENEW_LEASE = """
UPDATE content_requests SET lease_expires_at = now() + make_interval(secs => $3)
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

# The stage the pipeline entered (migration 0017: its trigger NOTIFYs the student's streams;
# any status but `processing` clears it). Unchanged stages write nothing.
SET_STAGE = """
UPDATE content_requests SET stage = $3
WHERE id = $1 AND claimed_by = $2 AND status = 'processing' AND stage IS DISTINCT FROM $3
"""

FINISH_COMPLETED = """
UPDATE content_requests
SET status = 'completed', title = $3, video_url = $4, thumbnail_url = $5, duration_seconds = $6,
    error_message = NULL, claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

FINISH_FAILED = """
UPDATE content_requests
SET status = 'failed', error_message = $3, title = COALESCE(title, $4),
    claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

FINISH_CLARIFICATION = """
UPDATE content_requests
SET status = 'clarification_needed', clarification_question = $3, clarification_answer = NULL,
    claimed_by = NULL, lease_expires_at = NULL
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""

# A worker stopping mid-job hands it back without counting the attempt.
RELEASE = """
UPDATE content_requests
SET status = 'pending', claimed_by = NULL, lease_expires_at = NULL, attempts = attempts - 1
WHERE id = $1 AND claimed_by = $2 AND status = 'processing'
"""
