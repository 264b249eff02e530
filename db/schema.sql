-- The schema `alembic upgrade head` builds (pg_dump --schema-only, normalised by db/snapshot.py).
-- Generated: do not edit. Regenerate with `.venv/bin/python -m db.snapshot`;
-- tests/migrations/test_schema_snapshot.py fails while this file and the migrations differ.

CREATE TYPE public.content_request_status AS ENUM (
    'pending',
    'processing',
    'completed',
    'failed',
    'clarification_needed'
);

CREATE FUNCTION public.vividly_content_request_fair_round_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.vividly_content_request_notify_v3() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    made record;
BEGIN
    made := vividly_request_notification_v1(NEW);
    IF made.type IS NOT NULL THEN
        PERFORM vividly_create_notification_v2(
            NEW.student_id, made.type, NEW.id, NEW.notify_round, made.payload);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.vividly_content_request_pending_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('content_requests:pending', '');
    RETURN NULL;
END
$$;

CREATE FUNCTION public.vividly_content_request_progress_v2() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM vividly_notify_user_v1(
        NEW.student_id,
        jsonb_build_object(
            'event', 'progress', 'content_id', NEW.id, 'status', NEW.status, 'stage', NEW.stage
        )
    );
    RETURN NULL;
END
$$;

CREATE FUNCTION public.vividly_content_request_stage_clear_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.stage := NULL;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.vividly_content_request_touch_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.status = 'pending'
       AND OLD.status IN ('completed', 'failed', 'clarification_needed') THEN
        NEW.notify_round := OLD.notify_round + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION public.vividly_copy_variant_v1(p_user_id uuid, p_experiment_id bigint) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN hashtextextended(p_user_id::text || ':' || p_experiment_id, 0) & 1 = 0
                THEN 'a' ELSE 'b' END
$$;

CREATE FUNCTION public.vividly_create_notification_v2(p_user_id uuid, p_type text, p_content_request_id uuid, p_round integer, p_payload jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    new_id bigint;
BEGIN
    IF EXISTS (
        SELECT 1 FROM notification_preferences
        WHERE user_id = p_user_id AND type = p_type AND NOT in_app
    ) THEN
        RETURN NULL;  -- muted: no row, no NOTIFY; the content request is unaffected
    END IF;
    -- Taken before the id is drawn and held to the end of the transaction: a later id of this
    -- user cannot commit before an earlier one, so "id > cursor" never skips a row.
    PERFORM vividly_user_lock_v1(p_user_id);
    INSERT INTO notifications (user_id, type, content_request_id, content_request_round, payload)
    VALUES (p_user_id, p_type, p_content_request_id, p_round, p_payload)
    ON CONFLICT (content_request_id, content_request_round) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NOT NULL THEN
        PERFORM vividly_notify_user_v1(
            p_user_id, jsonb_build_object('event', 'notification', 'id', new_id)
        );
    END IF;
    RETURN new_id;
END
$$;

CREATE FUNCTION public.vividly_notification_copy_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION public.vividly_notify_channel_v1(p_user_id uuid, p_shards integer) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF p_shards IS NULL THEN
        RETURN 'notifications:' || p_user_id;
    END IF;
    RETURN 'notifications:shard:'
        || (hashtextextended(p_user_id::text, 0) % p_shards + p_shards) % p_shards;
END
$$;

CREATE FUNCTION public.vividly_notify_channels_changed_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(vividly_notify_channels_lock_key_v1());
    PERFORM pg_notify('notifications:mode', json_build_object('shards', NEW.shards)::text);
    RETURN NEW;
END
$$;

CREATE FUNCTION public.vividly_notify_channels_lock_key_v1() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT hashtextextended('vividly.notify_channels', 0)
$$;

CREATE FUNCTION public.vividly_notify_user_v1(p_user_id uuid, p_message jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    shard_count integer;
BEGIN
    -- Held to commit: a change of mode waits until this NOTIFY is in the queue. Taken before
    -- the mode is read, in a statement of its own: the read's snapshot sees a change that
    -- committed while this waited.
    PERFORM pg_advisory_xact_lock_shared(vividly_notify_channels_lock_key_v1());
    SELECT shards INTO shard_count FROM notify_channels;
    IF shard_count IS NULL THEN
        PERFORM pg_notify(vividly_notify_channel_v1(p_user_id, NULL), p_message::text);
    ELSE
        PERFORM pg_notify(
            vividly_notify_channel_v1(p_user_id, shard_count),
            (p_message || jsonb_build_object('user', p_user_id))::text
        );
    END IF;
END
$$;

CREATE FUNCTION public.vividly_read_state_notify_v4() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    change record;
    unread bigint;
BEGIN
    FOR change IN
        SELECT n.user_id,
               CASE
                   WHEN n.dismissed_at IS NOT NULL AND o.dismissed_at IS NULL THEN 'dismissed'
                   WHEN n.dismissed_at IS NULL AND o.dismissed_at IS NOT NULL THEN 'restored'
                   WHEN n.read_at IS NOT NULL AND o.read_at IS NULL THEN 'read'
                   WHEN n.read_at IS NULL AND o.read_at IS NOT NULL THEN 'unread'
               END AS state,
               (array_agg(n.id ORDER BY n.id))[1:100] AS ids,
               count(*) AS changed,
               max(n.id) AS up_to_id
        FROM new_rows n JOIN old_rows o USING (id)
        WHERE (n.read_at IS NULL) <> (o.read_at IS NULL)
           OR (n.dismissed_at IS NULL) <> (o.dismissed_at IS NULL)
        GROUP BY 1, 2
        ORDER BY 1, 2
    LOOP
        -- Serialise with the user's other writers, then count in a fresh snapshot.
        PERFORM vividly_user_lock_v1(change.user_id);
        SELECT count(*) INTO unread FROM notifications
        WHERE user_id = change.user_id AND vividly_unread_v1(read_at, dismissed_at);
        PERFORM vividly_notify_user_v1(
            change.user_id,
            jsonb_build_object(
                'event', 'read_state', 'state', change.state,
                'ids', change.ids, 'changed', change.changed, 'up_to_id', change.up_to_id,
                'unread_count', unread
            )
        );
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION public.vividly_render_copy_v1(p_template text, p_payload jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
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

CREATE TABLE public.content_requests (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    student_id uuid NOT NULL,
    status public.content_request_status DEFAULT 'pending'::public.content_request_status NOT NULL,
    title text,
    video_url text,
    thumbnail_url text,
    duration_seconds integer,
    error_message text,
    clarification_question text,
    notify_round integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    question text,
    clarification_answer text,
    attempts integer DEFAULT 0 NOT NULL,
    claimed_by text,
    lease_expires_at timestamp with time zone,
    fair_round bigint DEFAULT 0 NOT NULL,
    stage text,
    CONSTRAINT content_requests_duration_seconds_check CHECK ((duration_seconds >= 0)),
    CONSTRAINT content_requests_stage_name CHECK ((stage ~ '^[a-z][a-z_]{0,31}$'::text))
);

CREATE FUNCTION public.vividly_request_notification_v1(request public.content_requests, OUT type text, OUT payload jsonb) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    CASE request.status
        WHEN 'completed' THEN
            type := 'video_complete';
            payload := jsonb_build_object(
                'content_id', request.id, 'title', request.title,
                'video_url', request.video_url, 'thumbnail_url', request.thumbnail_url,
                'duration_seconds', request.duration_seconds);
        WHEN 'failed' THEN
            type := 'video_failed';
            payload := jsonb_build_object(
                'content_id', request.id, 'title', request.title,
                'error_message', request.error_message);
        WHEN 'clarification_needed' THEN
            type := 'clarification_needed';
            payload := jsonb_build_object(
                'content_id', request.id, 'question', request.clarification_question);
        ELSE
            NULL;  -- this status notifies nobody
    END CASE;
END
$$;

CREATE FUNCTION public.vividly_unread_v1(p_read_at timestamp with time zone, p_dismissed_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT p_read_at IS NULL AND p_dismissed_at IS NULL
$$;

CREATE FUNCTION public.vividly_user_lock_key_v1(p_user_id uuid) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT hashtextextended('vividly.notifications:' || p_user_id::text, 0)
$$;

CREATE FUNCTION public.vividly_user_lock_v1(p_user_id uuid) RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_advisory_xact_lock(vividly_user_lock_key_v1(p_user_id))
$$;

CREATE FUNCTION public.vividly_wake_snoozed_v1(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    due record;
    woken integer := 0;
BEGIN
    FOR due IN
        SELECT id, user_id, type, content_request_id, content_request_round, payload
        FROM notifications
        WHERE snoozed_until <= now()
        ORDER BY user_id, id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        IF EXISTS (
            SELECT 1 FROM notification_preferences
            WHERE user_id = due.user_id AND type = due.type AND NOT in_app
        ) OR EXISTS (
            SELECT 1 FROM content_requests
            WHERE id = due.content_request_id AND notify_round <> due.content_request_round
        ) THEN
            -- Muted meanwhile, or its request moved on (retried or answered: a new round):
            -- nothing comes back; it stays archived, no longer snoozed.
            UPDATE notifications SET snoozed_until = NULL WHERE id = due.id;
        ELSE
            DELETE FROM notifications WHERE id = due.id;
            -- `vividly.coming_back`: for triggers that shape a new notification's content, this
            -- one is not new (0019's copy keeps the text it was made with).
            PERFORM set_config('vividly.coming_back', 'on', true);
            PERFORM vividly_create_notification_v2(
                due.user_id, due.type, due.content_request_id, due.content_request_round,
                due.payload);
            PERFORM set_config('vividly.coming_back', 'off', true);
            woken := woken + 1;
        END IF;
    END LOOP;
    RETURN woken;
END
$$;

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);

CREATE TABLE public.copy_experiments (
    id bigint NOT NULL,
    type text NOT NULL,
    a_heading text NOT NULL,
    a_body text NOT NULL,
    b_heading text NOT NULL,
    b_body text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    stopped_at timestamp with time zone,
    winner text,
    CONSTRAINT copy_experiments_a_body_check CHECK (((length(a_body) >= 1) AND (length(a_body) <= 300))),
    CONSTRAINT copy_experiments_a_heading_check CHECK (((length(a_heading) >= 1) AND (length(a_heading) <= 100))),
    CONSTRAINT copy_experiments_b_body_check CHECK (((length(b_body) >= 1) AND (length(b_body) <= 300))),
    CONSTRAINT copy_experiments_b_heading_check CHECK (((length(b_heading) >= 1) AND (length(b_heading) <= 100))),
    CONSTRAINT copy_experiments_check CHECK (((winner IS NULL) OR (stopped_at IS NOT NULL))),
    CONSTRAINT copy_experiments_winner_check CHECK ((winner = ANY (ARRAY['a'::text, 'b'::text])))
);

ALTER TABLE public.copy_experiments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.copy_experiments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.email_confirmation_sends (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    address_key text NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT email_confirmation_sends_address_key_check CHECK (((length(address_key) >= 3) AND (length(address_key) <= 320)))
);

ALTER TABLE public.email_confirmation_sends ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.email_confirmation_sends_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.email_digest_items (
    notification_id bigint NOT NULL,
    digest_id bigint NOT NULL
);

CREATE TABLE public.email_digest_preferences (
    user_id uuid NOT NULL,
    address text NOT NULL,
    period text NOT NULL,
    opted_in boolean NOT NULL,
    opted_in_at timestamp with time zone DEFAULT now() NOT NULL,
    next_digest_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    confirmed_at timestamp with time zone,
    confirmation_sent_at timestamp with time zone,
    hard_bounces integer DEFAULT 0 NOT NULL,
    suspended_at timestamp with time zone,
    suspended_reason text,
    locale text,
    CONSTRAINT email_digest_preferences_address_check CHECK ((((length(address) >= 3) AND (length(address) <= 320)) AND (address ~~ '%_@_%'::text))),
    CONSTRAINT email_digest_preferences_hard_bounces_check CHECK ((hard_bounces >= 0)),
    CONSTRAINT email_digest_preferences_locale_check CHECK (((length(locale) <= 35) AND (locale ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$'::text))),
    CONSTRAINT email_digest_preferences_period_check CHECK ((period = ANY (ARRAY['hourly'::text, 'daily'::text, 'weekly'::text]))),
    CONSTRAINT email_digest_preferences_suspended_reason_check CHECK ((length(suspended_reason) <= 300))
);

CREATE TABLE public.email_digests (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    message_uuid uuid DEFAULT gen_random_uuid() NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    claimed_by text,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    smtp_reply text,
    sent_count integer,
    CONSTRAINT email_digests_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT email_digests_sent_check CHECK (((state = 'sent'::text) = ((sent_at IS NOT NULL) AND (smtp_reply IS NOT NULL)))),
    CONSTRAINT email_digests_sent_count_check CHECK ((sent_count >= 0)),
    CONSTRAINT email_digests_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'failed'::text, 'cancelled'::text])))
);

ALTER TABLE public.email_digests ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.email_digests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.notification_preferences (
    user_id uuid NOT NULL,
    type text NOT NULL,
    in_app boolean NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.notification_retention (
    user_id uuid NOT NULL,
    pruned_through_id bigint NOT NULL,
    CONSTRAINT notification_retention_pruned_through_id_check CHECK ((pruned_through_id >= 0))
);

CREATE TABLE public.notification_types (
    name text NOT NULL,
    description text NOT NULL,
    label text,
    copy_heading text,
    copy_body text,
    CONSTRAINT notification_types_copy_body_check CHECK (((length(copy_body) >= 1) AND (length(copy_body) <= 300))),
    CONSTRAINT notification_types_copy_check CHECK (((copy_heading IS NULL) = (copy_body IS NULL))),
    CONSTRAINT notification_types_copy_heading_check CHECK (((length(copy_heading) >= 1) AND (length(copy_heading) <= 100))),
    CONSTRAINT notification_types_label_check CHECK ((label <> ''::text)),
    CONSTRAINT notification_types_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text))
);

CREATE TABLE public.notifications (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    type text NOT NULL,
    content_request_id uuid,
    content_request_round integer,
    payload jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    read_at timestamp with time zone,
    dismissed_at timestamp with time zone,
    delivered_at timestamp with time zone,
    delivered_via text,
    seen_at timestamp with time zone,
    opened_at timestamp with time zone,
    snoozed_until timestamp with time zone,
    copy_experiment_id bigint,
    copy_variant text,
    CONSTRAINT notifications_check CHECK (((content_request_id IS NULL) OR (content_request_round IS NOT NULL))),
    CONSTRAINT notifications_delivered_via_check CHECK (((delivered_via = ANY (ARRAY['stream'::text, 'push'::text, 'email'::text])) AND ((delivered_at IS NULL) = (delivered_via IS NULL)))),
    CONSTRAINT notifications_payload_check CHECK ((jsonb_typeof(payload) = 'object'::text))
)
WITH (fillfactor='85');

ALTER TABLE public.notifications ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.notifications_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.notify_channels (
    id boolean DEFAULT true NOT NULL,
    shards integer,
    CONSTRAINT notify_channels_one_row CHECK (id),
    CONSTRAINT notify_channels_shards CHECK (((shards >= 1) AND (shards <= 1024)))
);

CREATE TABLE public.push_deliveries (
    notification_id bigint NOT NULL,
    subscription_id bigint NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    last_error text,
    CONSTRAINT push_deliveries_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT push_deliveries_state_check CHECK (((state = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'failed'::text, 'cancelled'::text])) AND ((state = ANY (ARRAY['pending'::text, 'sending'::text])) = (finished_at IS NULL))))
);

CREATE TABLE public.push_subscriptions (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    endpoint text NOT NULL,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT push_subscriptions_auth_check CHECK ((auth ~ '^[A-Za-z0-9_-]{22}$'::text)),
    CONSTRAINT push_subscriptions_endpoint_check CHECK (((endpoint ~ '^https?://'::text) AND (length(endpoint) <= 2048))),
    CONSTRAINT push_subscriptions_p256dh_check CHECK ((p256dh ~ '^[A-Za-z0-9_-]{87}$'::text))
);

ALTER TABLE public.push_subscriptions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.push_subscriptions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);

ALTER TABLE ONLY public.content_requests
    ADD CONSTRAINT content_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.copy_experiments
    ADD CONSTRAINT copy_experiments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.email_confirmation_sends
    ADD CONSTRAINT email_confirmation_sends_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.email_digest_items
    ADD CONSTRAINT email_digest_items_pkey PRIMARY KEY (notification_id);

ALTER TABLE ONLY public.email_digest_preferences
    ADD CONSTRAINT email_digest_preferences_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY public.email_digests
    ADD CONSTRAINT email_digests_message_uuid_key UNIQUE (message_uuid);

ALTER TABLE ONLY public.email_digests
    ADD CONSTRAINT email_digests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.notification_preferences
    ADD CONSTRAINT notification_preferences_pkey PRIMARY KEY (user_id, type);

ALTER TABLE ONLY public.notification_retention
    ADD CONSTRAINT notification_retention_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY public.notification_types
    ADD CONSTRAINT notification_types_pkey PRIMARY KEY (name);

ALTER TABLE public.notifications
    ADD CONSTRAINT notifications_copy_variant_check CHECK (((copy_variant = ANY (ARRAY['a'::text, 'b'::text])) AND ((copy_experiment_id IS NULL) = (copy_variant IS NULL)))) NOT VALID;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);

ALTER TABLE public.notifications
    ADD CONSTRAINT notifications_snoozed_is_archived CHECK (((snoozed_until IS NULL) OR (dismissed_at IS NOT NULL))) NOT VALID;

ALTER TABLE ONLY public.notify_channels
    ADD CONSTRAINT notify_channels_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.push_deliveries
    ADD CONSTRAINT push_deliveries_pkey PRIMARY KEY (notification_id, subscription_id);

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_endpoint_key UNIQUE (endpoint);

ALTER TABLE ONLY public.push_subscriptions
    ADD CONSTRAINT push_subscriptions_pkey PRIMARY KEY (id);

CREATE INDEX content_requests_pending ON public.content_requests USING btree (fair_round, created_at) WHERE (status = 'pending'::public.content_request_status);

CREATE INDEX content_requests_processing ON public.content_requests USING btree (fair_round, created_at) WHERE (status = 'processing'::public.content_request_status);

CREATE INDEX content_requests_served_round ON public.content_requests USING btree (fair_round) WHERE (status <> 'pending'::public.content_request_status);

CREATE INDEX content_requests_student_newest ON public.content_requests USING btree (student_id, created_at DESC, id DESC);

CREATE INDEX content_requests_student_open ON public.content_requests USING btree (student_id, fair_round) WHERE (status = ANY (ARRAY['pending'::public.content_request_status, 'processing'::public.content_request_status]));

CREATE UNIQUE INDEX copy_experiments_running ON public.copy_experiments USING btree (type) WHERE (stopped_at IS NULL);

CREATE INDEX email_confirmation_sends_address ON public.email_confirmation_sends USING btree (address_key, sent_at);

CREATE INDEX email_confirmation_sends_sent ON public.email_confirmation_sends USING btree (sent_at);

CREATE INDEX email_confirmation_sends_user ON public.email_confirmation_sends USING btree (user_id, sent_at);

CREATE INDEX email_digest_items_digest ON public.email_digest_items USING btree (digest_id);

CREATE INDEX email_digest_preferences_due ON public.email_digest_preferences USING btree (next_digest_at) WHERE opted_in;

CREATE INDEX email_digests_due ON public.email_digests USING btree (next_attempt_at) WHERE (state = ANY (ARRAY['pending'::text, 'sending'::text]));

CREATE UNIQUE INDEX email_digests_one_open_per_user ON public.email_digests USING btree (user_id) WHERE (state = ANY (ARRAY['pending'::text, 'sending'::text]));

CREATE INDEX email_digests_user_newest ON public.email_digests USING btree (user_id, id DESC);

CREATE INDEX notifications_copy_experiment ON public.notifications USING btree (copy_experiment_id, copy_variant) WHERE (copy_experiment_id IS NOT NULL);

CREATE INDEX notifications_created_brin ON public.notifications USING brin (created_at) WITH (autosummarize='on');

CREATE UNIQUE INDEX notifications_one_per_round ON public.notifications USING btree (content_request_id, content_request_round);

CREATE INDEX notifications_snoozed_due ON public.notifications USING btree (snoozed_until) WHERE (snoozed_until IS NOT NULL);

CREATE INDEX notifications_user_newest ON public.notifications USING btree (user_id, id DESC);

CREATE INDEX notifications_user_unread ON public.notifications USING btree (user_id, id DESC) WHERE public.vividly_unread_v1(read_at, dismissed_at);

CREATE INDEX push_deliveries_due ON public.push_deliveries USING btree (next_attempt_at) WHERE (state = ANY (ARRAY['pending'::text, 'sending'::text]));

CREATE INDEX push_deliveries_subscription ON public.push_deliveries USING btree (subscription_id);

CREATE INDEX push_subscriptions_user ON public.push_subscriptions USING btree (user_id, updated_at);

CREATE TRIGGER content_requests_fair_round_insert BEFORE INSERT ON public.content_requests FOR EACH ROW WHEN ((new.status = 'pending'::public.content_request_status)) EXECUTE FUNCTION public.vividly_content_request_fair_round_v1();

CREATE TRIGGER content_requests_fair_round_requeue BEFORE UPDATE OF status ON public.content_requests FOR EACH ROW WHEN (((new.status = 'pending'::public.content_request_status) AND (old.status = ANY (ARRAY['completed'::public.content_request_status, 'failed'::public.content_request_status, 'clarification_needed'::public.content_request_status])))) EXECUTE FUNCTION public.vividly_content_request_fair_round_v1();

CREATE TRIGGER content_requests_notify_insert AFTER INSERT ON public.content_requests FOR EACH ROW WHEN ((new.status = ANY (ARRAY['completed'::public.content_request_status, 'failed'::public.content_request_status, 'clarification_needed'::public.content_request_status]))) EXECUTE FUNCTION public.vividly_content_request_notify_v3();

CREATE TRIGGER content_requests_notify_update AFTER UPDATE OF status ON public.content_requests FOR EACH ROW WHEN (((new.status IS DISTINCT FROM old.status) AND (new.status = ANY (ARRAY['completed'::public.content_request_status, 'failed'::public.content_request_status, 'clarification_needed'::public.content_request_status])))) EXECUTE FUNCTION public.vividly_content_request_notify_v3();

CREATE TRIGGER content_requests_pending_insert AFTER INSERT ON public.content_requests FOR EACH ROW WHEN ((new.status = 'pending'::public.content_request_status)) EXECUTE FUNCTION public.vividly_content_request_pending_v1();

CREATE TRIGGER content_requests_pending_update AFTER UPDATE OF status ON public.content_requests FOR EACH ROW WHEN (((new.status = 'pending'::public.content_request_status) AND (old.status IS DISTINCT FROM 'pending'::public.content_request_status))) EXECUTE FUNCTION public.vividly_content_request_pending_v1();

CREATE TRIGGER content_requests_progress AFTER UPDATE ON public.content_requests FOR EACH ROW WHEN (((new.stage IS DISTINCT FROM old.stage) AND (new.status = ANY (ARRAY['pending'::public.content_request_status, 'processing'::public.content_request_status])))) EXECUTE FUNCTION public.vividly_content_request_progress_v2();

CREATE TRIGGER content_requests_stage_clear BEFORE INSERT OR UPDATE ON public.content_requests FOR EACH ROW WHEN (((new.stage IS NOT NULL) AND (new.status <> 'processing'::public.content_request_status))) EXECUTE FUNCTION public.vividly_content_request_stage_clear_v1();

CREATE TRIGGER content_requests_touch BEFORE UPDATE ON public.content_requests FOR EACH ROW EXECUTE FUNCTION public.vividly_content_request_touch_v1();

CREATE TRIGGER notifications_copy BEFORE INSERT ON public.notifications FOR EACH ROW EXECUTE FUNCTION public.vividly_notification_copy_v1();

CREATE TRIGGER notifications_read_state AFTER UPDATE ON public.notifications REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.vividly_read_state_notify_v4();

CREATE TRIGGER notify_channels_changed BEFORE UPDATE ON public.notify_channels FOR EACH ROW EXECUTE FUNCTION public.vividly_notify_channels_changed_v1();

ALTER TABLE ONLY public.copy_experiments
    ADD CONSTRAINT copy_experiments_type_fkey FOREIGN KEY (type) REFERENCES public.notification_types(name);

ALTER TABLE ONLY public.email_digest_items
    ADD CONSTRAINT email_digest_items_digest_id_fkey FOREIGN KEY (digest_id) REFERENCES public.email_digests(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.email_digest_items
    ADD CONSTRAINT email_digest_items_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notifications(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.notification_preferences
    ADD CONSTRAINT notification_preferences_type_fkey FOREIGN KEY (type) REFERENCES public.notification_types(name) ON DELETE CASCADE;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_content_request_id_fkey FOREIGN KEY (content_request_id) REFERENCES public.content_requests(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_copy_experiment_fkey FOREIGN KEY (copy_experiment_id) REFERENCES public.copy_experiments(id) NOT VALID;

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_type_fkey FOREIGN KEY (type) REFERENCES public.notification_types(name);

ALTER TABLE ONLY public.push_deliveries
    ADD CONSTRAINT push_deliveries_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notifications(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.push_deliveries
    ADD CONSTRAINT push_deliveries_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES public.push_subscriptions(id) ON DELETE CASCADE;
