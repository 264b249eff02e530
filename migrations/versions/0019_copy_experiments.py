"""A/B tests of a notification type's copy, and a type's default copy.

- `copy_experiments`: two headings and bodies (variants `a` and `b`) for one type; at most one
  running per type (the unique partial index `copy_experiments_running`, so two admins at once
  cannot both start one). Stopping sets `stopped_at`; choosing a winner stops it too and copies
  that variant to the type's default copy.
- `notification_types.copy_heading` / `copy_body`: the type's default copy (both or neither),
  used while no experiment of the type runs.
- Copy is a template: `{title}`, `{error_message}` and `{question}` stand for the payload's
  string of that name, stripped, at most 200 characters (`vividly_render_copy_v1`, one pass:
  a value that itself contains `{question}` stays as it is). The API admits no other `{name}`.
- `notifications_copy` (BEFORE INSERT, `vividly_notification_copy_v1`): whatever inserts a
  notification, the insert itself picks its copy. With an experiment of its type running, the
  student's variant (`vividly_copy_variant_v1`: a hash of the student and the experiment, the
  same every time, about half each) is recorded in `copy_experiment_id` / `copy_variant`, and
  that variant's copy rendered into the payload as `copy_heading` / `copy_body`; otherwise the
  type's default copy, if any. The text rule of every channel reads those two payload keys
  first (service/notifications/text.py, clients/js/src/types.js `describe`), so the page, the
  stream, Web Push and the digest all show the copy the notification was made with, and a
  notification's text never changes after it was made.
- The two constraints on the new `notifications` columns are added NOT VALID and never
  validated here: every existing row has NULL in both, so there is nothing to check, and a
  VALIDATE in this transaction would scan the whole table while the ADD's exclusive lock
  blocks every read and write of it. New and changed rows are checked.
- A snoozed notification coming back (0018's waker sets `vividly.coming_back`) keeps its
  payload, copy included, and is counted in no experiment.
- `notifications_copy_experiment`: a partial index of the notifications made in an experiment,
  read by the per-variant counts. It is built CONCURRENTLY (writes go on) right after the two
  columns are added, so the columns are added `IF NOT EXISTS` (migrations/script.py: a retried
  revision runs again up to the build).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from migrations.script import create_index_concurrently, execute_script

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = r"""
ALTER TABLE notifications
    ADD COLUMN IF NOT EXISTS copy_experiment_id bigint,
    ADD COLUMN IF NOT EXISTS copy_variant text;
"""

UPGRADE = r"""
ALTER TABLE notification_types
    ADD COLUMN copy_heading text CHECK (length(copy_heading) BETWEEN 1 AND 100),
    ADD COLUMN copy_body text CHECK (length(copy_body) BETWEEN 1 AND 300),
    ADD CONSTRAINT notification_types_copy_check
        CHECK ((copy_heading IS NULL) = (copy_body IS NULL));

CREATE TABLE copy_experiments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type text NOT NULL REFERENCES notification_types (name),
    a_heading text NOT NULL CHECK (length(a_heading) BETWEEN 1 AND 100),
    a_body text NOT NULL CHECK (length(a_body) BETWEEN 1 AND 300),
    b_heading text NOT NULL CHECK (length(b_heading) BETWEEN 1 AND 100),
    b_body text NOT NULL CHECK (length(b_body) BETWEEN 1 AND 300),
    started_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz,
    winner text CHECK (winner IN ('a', 'b')),
    CHECK (winner IS NULL OR stopped_at IS NOT NULL)
);
CREATE UNIQUE INDEX copy_experiments_running ON copy_experiments (type) WHERE stopped_at IS NULL;

ALTER TABLE notifications
    ADD CONSTRAINT notifications_copy_experiment_fkey
        FOREIGN KEY (copy_experiment_id) REFERENCES copy_experiments (id) NOT VALID,
    ADD CONSTRAINT notifications_copy_variant_check
        CHECK (copy_variant IN ('a', 'b')
               AND (copy_experiment_id IS NULL) = (copy_variant IS NULL)) NOT VALID;

-- A student's variant in an experiment: stable, about half each way.
CREATE FUNCTION vividly_copy_variant_v1(p_user_id uuid, p_experiment_id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN hashtextextended(p_user_id::text || ':' || p_experiment_id, 0) & 1 = 0
                THEN 'a' ELSE 'b' END
$$;

-- `p_template` with each {title}, {error_message}, {question} replaced by the payload's string
-- of that name (stripped, at most 200 characters; '' when it has none), in one pass.
CREATE FUNCTION vividly_render_copy_v1(p_template text, p_payload jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    parts text[] := regexp_split_to_array(
        p_template, '\{(?:title|error_message|question)\}');
    names text[] := ARRAY(
        SELECT m[1] FROM regexp_matches(
            p_template, '\{(title|error_message|question)\}', 'g') AS m);
    result text := parts[1];
    value text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        value := CASE WHEN jsonb_typeof(p_payload -> names[i]) = 'string'
                      THEN btrim(p_payload ->> names[i]) ELSE '' END;
        IF length(value) > 200 THEN
            value := left(value, 199) || '…';
        END IF;
        result := result || value || parts[i + 1];
    END LOOP;
    RETURN btrim(result);
END
$$;

-- One look-up per insert: the type's running experiment, if any, and its default copy.
CREATE FUNCTION vividly_notification_copy_v1() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_copy record;
    heading text;
    body text;
BEGIN
    -- A snoozed notification coming back (0018's waker) is the same notification: it keeps
    -- the text it was made with and counts in no experiment (it was shown once already).
    IF current_setting('vividly.coming_back', true) = 'on' THEN
        NEW.copy_experiment_id := NULL;
        NEW.copy_variant := NULL;
        RETURN NEW;
    END IF;
    SELECT e.id, e.a_heading, e.a_body, e.b_heading, e.b_body, t.copy_heading, t.copy_body
    INTO found_copy
    FROM notification_types t
    LEFT JOIN copy_experiments e ON e.type = t.name AND e.stopped_at IS NULL
    WHERE t.name = NEW.type;
    NEW.copy_experiment_id := found_copy.id;
    NEW.copy_variant := NULL;
    IF found_copy.id IS NOT NULL THEN
        NEW.copy_variant := vividly_copy_variant_v1(NEW.user_id, found_copy.id);
        IF NEW.copy_variant = 'a' THEN
            heading := found_copy.a_heading;
            body := found_copy.a_body;
        ELSE
            heading := found_copy.b_heading;
            body := found_copy.b_body;
        END IF;
    ELSE
        heading := found_copy.copy_heading;
        body := found_copy.copy_body;
    END IF;
    IF heading IS NOT NULL THEN
        NEW.payload := NEW.payload || jsonb_build_object(
            'copy_heading', vividly_render_copy_v1(heading, NEW.payload),
            'copy_body', vividly_render_copy_v1(body, NEW.payload));
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER notifications_copy
    BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION vividly_notification_copy_v1();
"""

DOWNGRADE = r"""
DROP TRIGGER notifications_copy ON notifications;
DROP FUNCTION vividly_notification_copy_v1();
DROP FUNCTION vividly_render_copy_v1(text, jsonb);
DROP FUNCTION vividly_copy_variant_v1(uuid, bigint);
DROP INDEX notifications_copy_experiment;
ALTER TABLE notifications
    DROP CONSTRAINT notifications_copy_variant_check,
    DROP CONSTRAINT notifications_copy_experiment_fkey,
    DROP COLUMN copy_variant,
    DROP COLUMN copy_experiment_id;
DROP TABLE copy_experiments;
ALTER TABLE notification_types
    DROP CONSTRAINT notification_types_copy_check,
    DROP COLUMN copy_body,
    DROP COLUMN copy_heading;
"""


def upgrade() -> None:
    execute_script(COLUMNS)
    create_index_concurrently(
        "notifications_copy_experiment",
        "ON notifications (copy_experiment_id, copy_variant) WHERE copy_experiment_id IS NOT NULL",
    )
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
