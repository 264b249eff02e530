-- One notifying commit, as the service's writers make them: a row change and one NOTIFY in the
-- same transaction (the completion trigger does both). At commit the transaction takes
-- Postgres's one cluster-wide NOTIFY lock and holds it through its WAL flush (and a synchronous
-- standby's acknowledgement): these commits run one at a time.
\set id random(1, 100000)
BEGIN;
UPDATE vividly_ceiling SET n = n + 1 WHERE id = :id;
SELECT pg_notify('vividly_ceiling', :id::text);
COMMIT;
