-- The notifying-commit ceiling: scratch table for bench/ceiling/*.sql (no application schema
-- needed). Drop it afterwards with: DROP TABLE vividly_ceiling;
DROP TABLE IF EXISTS vividly_ceiling;
CREATE TABLE vividly_ceiling (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
INSERT INTO vividly_ceiling (id) SELECT generate_series(1, 100000);
VACUUM ANALYZE vividly_ceiling;
