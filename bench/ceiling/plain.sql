-- The same transaction without its NOTIFY: commits that group-commit freely.
\set id random(1, 100000)
BEGIN;
UPDATE vividly_ceiling SET n = n + 1 WHERE id = :id;
COMMIT;
