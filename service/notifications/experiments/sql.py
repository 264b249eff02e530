"""SQL of copy experiments (tables and trigger: migration 0019)."""

EXPERIMENT_COLUMNS = """
e.id, e.type, COALESCE(t.label, e.type) AS label, e.a_heading, e.a_body, e.b_heading, e.b_body,
e.started_at, e.stopped_at, e.winner
"""

# One running per type: the unique partial index `copy_experiments_running` refuses a second
# (a unique violation), even when two admins start one at once. $1 type, $2..$5 the copy.
CREATE = f"""
WITH e AS (
    INSERT INTO copy_experiments (type, a_heading, a_body, b_heading, b_body)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING *
)
SELECT {EXPERIMENT_COLUMNS} FROM e JOIN notification_types t ON t.name = e.type
"""

TYPE_EXISTS = "SELECT EXISTS (SELECT 1 FROM notification_types WHERE name = $1)"

RUNNING_OF_TYPE = "SELECT id FROM copy_experiments WHERE type = $1 AND stopped_at IS NULL"

# Newest first; $1 one experiment's id, or NULL for all of them (at most $2).
EXPERIMENTS = f"""
SELECT {EXPERIMENT_COLUMNS}
FROM copy_experiments e JOIN notification_types t ON t.name = e.type
WHERE $1::bigint IS NULL OR e.id = $1
ORDER BY e.id DESC
LIMIT $2
"""

# Per experiment of $1 and variant: what its notifications did (the same counts as the delivery
# analytics: sql.DELIVERY_ANALYTICS), on the partial index `notifications_copy_experiment`.
VARIANT_COUNTS = """
SELECT copy_experiment_id AS experiment_id, copy_variant AS variant,
       count(*) AS created,
       count(delivered_at) AS delivered,
       count(seen_at) AS seen,
       count(opened_at) AS opened,
       count(*) FILTER (WHERE opened_at IS NOT NULL AND delivered_at IS NOT NULL)
           AS opened_delivered
FROM notifications
WHERE copy_experiment_id = ANY($1::bigint[])
GROUP BY copy_experiment_id, copy_variant
"""

# Stopping a stopped experiment changes nothing. $1 id.
STOP = "UPDATE copy_experiments SET stopped_at = COALESCE(stopped_at, now()) WHERE id = $1"

# The variant $2 of experiment $1 becomes its type's default copy, and the experiment stops with
# it as the winner (in one transaction: the route's). The type's row is locked first.
MAKE_WINNER = """
WITH e AS (
    UPDATE copy_experiments
    SET winner = $2, stopped_at = COALESCE(stopped_at, now())
    WHERE id = $1
    RETURNING type, CASE $2 WHEN 'a' THEN a_heading ELSE b_heading END AS heading,
              CASE $2 WHEN 'a' THEN a_body ELSE b_body END AS body
)
UPDATE notification_types t SET copy_heading = e.heading, copy_body = e.body
FROM e WHERE t.name = e.type
RETURNING t.name
"""
