--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app_hidden; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_hidden;

--
-- Name: SCHEMA app_hidden; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA app_hidden IS 'Helpers the request roles may call but that are not part of the API surface.';

--
-- Name: app_private; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_private;

--
-- Name: SCHEMA app_private; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA app_private IS 'Money, secrets and internals: request roles have no usage on this schema.';

--
-- Name: app_public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA app_public;

--
-- Name: SCHEMA app_public; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA app_public IS 'The API: every table, view and function here is served by PostGraphile and PostgREST.';

--
-- Name: app_role; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.app_role AS ENUM (
    'viewer',
    'broadcaster',
    'moderator',
    'admin'
);

--
-- Name: TYPE app_role; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.app_role IS 'What a user may do in the app; data on the user, checked in SQL.';

--
-- Name: base64url(bytea); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.base64url(data bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO ''
    AS $$
  select translate(rtrim(replace(encode(data, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;

--
-- Name: configure_auth(text, text, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  if jwt_secret is null or char_length(jwt_secret) < 32 then
    raise exception 'JWT secret must be at least 32 characters' using errcode = 'BADIN';
  end if;
  if jwt_ttl_seconds is null or jwt_ttl_seconds not between 60 and 86400 then
    raise exception 'JWT lifetime must be between 60 and 86400 seconds, got %', jwt_ttl_seconds using errcode = 'BADIN';
  end if;
  insert into app_private.settings (key, value)
  values ('jwt_secret', jwt_secret), ('jwt_audience', jwt_audience), ('jwt_ttl_seconds', jwt_ttl_seconds::text)
  on conflict (key) do update set value = excluded.value;
end;
$$;

--
-- Name: FUNCTION configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) IS 'Called by the server at start with its validated config.';

--
-- Name: publish_stream_event(uuid, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO ''
    AS $$
  insert into app_private.stream_events (stream_id, kind, payload) values (stream_id, kind, payload);
$$;

--
-- Name: FUNCTION publish_stream_event(stream_id uuid, kind text, payload jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) IS 'Append an event to the outbox. Never NOTIFY from a hot write: the relay does that, once per stream per tick.';

--
-- Name: sign_jwt(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.sign_jwt(user_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO ''
    AS $$
declare
  v_secret text;
  v_audience text;
  v_ttl integer;
  v_now bigint := floor(extract(epoch from now()));
  v_input text;
begin
  select max(value) filter (where key = 'jwt_secret'),
         max(value) filter (where key = 'jwt_audience'),
         max(value) filter (where key = 'jwt_ttl_seconds')::integer
    into v_secret, v_audience, v_ttl
    from app_private.settings;
  if v_secret is null then
    raise exception 'auth is not configured (the server sets the JWT secret at start)' using errcode = 'CONFG';
  end if;
  v_input := app_private.base64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
    || '.' || app_private.base64url(convert_to(jsonb_build_object(
      'role', 'authenticated',
      'sub', user_id,
      'aud', v_audience,
      'iat', v_now,
      'exp', v_now + v_ttl
    )::text, 'UTF8'));
  return v_input || '.' || app_private.base64url(public.hmac(convert_to(v_input, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'));
end;
$$;

--
-- Name: FUNCTION sign_jwt(user_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.sign_jwt(user_id uuid) IS 'HS256 token for the API: role authenticated, sub = user id, short-lived.';

--
-- Name: tg__timestamps(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__timestamps() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now() then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$;

--
-- Name: FUNCTION tg__timestamps(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__timestamps() IS 'Keeps created_at/updated_at honest whatever the client sends.';

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: users; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    username text NOT NULL,
    display_name text NOT NULL,
    avatar_url text,
    role app_public.app_role DEFAULT 'viewer'::app_public.app_role NOT NULL,
    is_banned boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_avatar_url_check CHECK ((avatar_url ~ '^https?://[^\s]+$'::text)),
    CONSTRAINT users_display_name_check CHECK (((char_length(display_name) >= 1) AND (char_length(display_name) <= 64))),
    CONSTRAINT users_username_check CHECK ((username ~ '^[A-Za-z][A-Za-z0-9_]{2,23}$'::text))
);

ALTER TABLE ONLY app_public.users FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE users; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.users IS 'A person using Troll City: public profile and app role.';

--
-- Name: COLUMN users.id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.id IS 'Stable id; the JWT `sub`.';

--
-- Name: COLUMN users.username; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.username IS 'Unique (case-insensitive) handle: a letter, then 2-23 letters, digits or underscores.';

--
-- Name: COLUMN users.display_name; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.display_name IS 'Name shown in chat and on stage.';

--
-- Name: COLUMN users.avatar_url; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.avatar_url IS 'http(s) URL of the avatar image.';

--
-- Name: COLUMN users.role; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.role IS 'App role: viewer, broadcaster, moderator or admin.';

--
-- Name: COLUMN users.is_banned; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.is_banned IS 'Banned users cannot sign in, chat, gift or join a stage.';

--
-- Name: current_user(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public."current_user"() RETURNS app_public.users
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select u.* from app_public.users u where u.id = app_public.current_user_id()
$$;

--
-- Name: FUNCTION "current_user"(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public."current_user"() IS 'The signed-in user, or null.';

--
-- Name: current_user_id(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path TO ''
    AS $$
  select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid
$$;

--
-- Name: FUNCTION current_user_id(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.current_user_id() IS '@behavior -queryField
The signed-in user''s id, from the verified JWT claims (`sub`); null when anonymous.';

--
-- Name: streams; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.streams (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    broadcaster_id uuid NOT NULL,
    title text NOT NULL,
    status text DEFAULT 'live'::text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    ended_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT streams_check CHECK (((status = 'ended'::text) = (ended_at IS NOT NULL))),
    CONSTRAINT streams_status_check CHECK ((status = ANY (ARRAY['live'::text, 'ended'::text]))),
    CONSTRAINT streams_title_check CHECK (((char_length(title) >= 1) AND (char_length(title) <= 140)))
);

ALTER TABLE ONLY app_public.streams FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE streams; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.streams IS 'One broadcast. Created by go_live, closed by end_stream.';

--
-- Name: COLUMN streams.broadcaster_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.broadcaster_id IS 'The user who owns the stream and publishes on its stage.';

--
-- Name: COLUMN streams.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.status IS 'live or ended.';

--
-- Name: end_stream(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.end_stream(stream_id uuid) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_stream app_public.streams;
  v_uid uuid := app_public.current_user_id();
begin
  if v_uid is null then
    raise exception 'sign in to end a stream' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = end_stream.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may end stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status = 'ended' then
    return v_stream;
  end if;
  update app_public.streams s set status = 'ended', ended_at = now() where s.id = v_stream.id
    returning * into v_stream;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION end_stream(stream_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.end_stream(stream_id uuid) IS 'Ends a live stream (idempotent). Errors: NOAUT, NOFND, DENYD (not the broadcaster or an admin).';

--
-- Name: go_live(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.go_live(title text) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
begin
  select * into v_user from app_public.users where id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in to go live' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  if v_user.role not in ('broadcaster', 'admin') then
    raise exception 'user % is not a broadcaster', v_user.username using errcode = 'DENYD';
  end if;
  if title is null or char_length(btrim(title)) not between 1 and 140 then
    raise exception 'title must be 1-140 characters' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.streams s where s.broadcaster_id = v_user.id and s.status = 'live') then
    raise exception 'user % is already live', v_user.username using errcode = 'CONFL';
  end if;
  insert into app_public.streams (broadcaster_id, title) values (v_user.id, btrim(title))
    returning * into v_stream;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION go_live(title text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.go_live(title text) IS 'Starts a live stream owned by the caller. Errors: NOAUT, BANND, DENYD (not a broadcaster), BADIN, CONFL (already live).';

--
-- Name: live_streams(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.live_streams() RETURNS SETOF app_public.streams
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select s.* from app_public.streams s where s.status = 'live' order by s.started_at desc
$$;

--
-- Name: FUNCTION live_streams(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.live_streams() IS 'Streams that are live now, newest first.';

--
-- Name: login(text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.login(username_or_email text, password text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_user app_public.users;
  v_hash text;
begin
  select u.* into v_user
    from app_public.users u
    left join app_private.user_secrets s on s.user_id = u.id
   where lower(u.username) = lower(username_or_email) or lower(s.email) = lower(username_or_email)
   limit 1;
  select s.password_hash into v_hash from app_private.user_secrets s where s.user_id = v_user.id;
  -- Same error whether the user is unknown or the password is wrong.
  if v_user.id is null or v_hash is null or v_hash <> public.crypt(coalesce(password, ''), v_hash) then
    raise exception 'wrong username/email or password' using errcode = 'CREDS';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  update app_private.user_secrets set last_login_at = now() where user_id = v_user.id;
  return app_private.sign_jwt(v_user.id);
end;
$$;

--
-- Name: FUNCTION login(username_or_email text, password text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.login(username_or_email text, password text) IS 'Signs in and returns a short-lived JWT. Errors: CREDS wrong credentials, BANND banned.';

--
-- Name: register(text, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.register(username text, email text, password text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_user_id uuid;
begin
  if username is null or username !~ '^[A-Za-z][A-Za-z0-9_]{2,23}$' then
    raise exception 'username must be a letter followed by 2-23 letters, digits or underscores' using errcode = 'BADIN';
  end if;
  if email is null or email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception 'email is not a valid address' using errcode = 'BADIN';
  end if;
  if password is null or char_length(password) < 8 or char_length(password) > 200 then
    raise exception 'password must be 8-200 characters' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.users u where lower(u.username) = lower(register.username)) then
    raise exception 'username "%" is already taken', username using errcode = 'CONFL';
  end if;
  if exists (select 1 from app_private.user_secrets s where lower(s.email) = lower(register.email)) then
    raise exception 'email is already registered' using errcode = 'CONFL';
  end if;
  insert into app_public.users (username, display_name) values (username, username)
    returning id into v_user_id;
  insert into app_private.user_secrets (user_id, email, password_hash)
    values (v_user_id, email, public.crypt(password, public.gen_salt('bf', 10)));
  return app_private.sign_jwt(v_user_id);
exception
  when unique_violation then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
end;
$_$;

--
-- Name: FUNCTION register(username text, email text, password text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.register(username text, email text, password text) IS 'Creates an account (app role viewer) and returns a signed JWT. Errors: BADIN invalid input, CONFL username or email taken.';

--
-- Name: user_by_username(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.user_by_username(username text) RETURNS app_public.users
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select u.* from app_public.users u where lower(u.username) = lower(user_by_username.username)
$$;

--
-- Name: FUNCTION user_by_username(username text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.user_by_username(username text) IS 'A user by username (case-insensitive).';

--
-- Name: settings; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.settings (
    key text NOT NULL,
    value text NOT NULL
);

--
-- Name: TABLE settings; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.settings IS 'Server-written configuration (JWT secret, audience, token lifetime). Never exposed.';

--
-- Name: stream_events; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.stream_events (
    id bigint NOT NULL,
    stream_id uuid NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_events_kind_check CHECK ((kind = ANY (ARRAY['chat'::text, 'chat_deleted'::text, 'gift'::text, 'viewer_count'::text, 'seat'::text, 'leaderboard'::text, 'earnings'::text, 'stream_state'::text])))
);

--
-- Name: TABLE stream_events; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stream_events IS 'Outbox of stream events, drained by the relay into one NOTIFY per stream per tick. Payloads are self-contained.';

--
-- Name: stream_events_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.stream_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.stream_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: user_secrets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.user_secrets (
    user_id uuid NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    last_login_at timestamp with time zone,
    CONSTRAINT user_secrets_email_check CHECK ((email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text))
);

--
-- Name: TABLE user_secrets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.user_secrets IS 'E-mail and bcrypt password hash; never exposed.';

--
-- Name: worker_heartbeats; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.worker_heartbeats (
    worker_id text NOT NULL,
    beat_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE worker_heartbeats; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.worker_heartbeats IS 'Written by the worker__heartbeat job; /readyz wants a fresh row.';

--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (key);

--
-- Name: stream_events stream_events_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_events
    ADD CONSTRAINT stream_events_pkey PRIMARY KEY (id);

--
-- Name: user_secrets user_secrets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_secrets
    ADD CONSTRAINT user_secrets_pkey PRIMARY KEY (user_id);

--
-- Name: worker_heartbeats worker_heartbeats_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.worker_heartbeats
    ADD CONSTRAINT worker_heartbeats_pkey PRIMARY KEY (worker_id);

--
-- Name: streams streams_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.streams
    ADD CONSTRAINT streams_pkey PRIMARY KEY (id);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: stream_events_stream_id_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_events_stream_id_id_idx ON app_private.stream_events USING btree (stream_id, id);

--
-- Name: user_secrets_email_lower_key; Type: INDEX; Schema: app_private; Owner: -
--

CREATE UNIQUE INDEX user_secrets_email_lower_key ON app_private.user_secrets USING btree (lower(email));

--
-- Name: streams_broadcaster_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX streams_broadcaster_id_idx ON app_public.streams USING btree (broadcaster_id);

--
-- Name: streams_live_started_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX streams_live_started_at_idx ON app_public.streams USING btree (started_at DESC) WHERE (status = 'live'::text);

--
-- Name: streams_one_live_per_broadcaster; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX streams_one_live_per_broadcaster ON app_public.streams USING btree (broadcaster_id) WHERE (status = 'live'::text);

--
-- Name: users_username_lower_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX users_username_lower_key ON app_public.users USING btree (lower(username));

--
-- Name: streams _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.streams FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: users _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.users FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: user_secrets user_secrets_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_secrets
    ADD CONSTRAINT user_secrets_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: streams streams_broadcaster_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.streams
    ADD CONSTRAINT streams_broadcaster_id_fkey FOREIGN KEY (broadcaster_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: streams select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.streams FOR SELECT USING (true);

--
-- Name: users select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.users FOR SELECT USING (true);

--
-- Name: streams; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.streams ENABLE ROW LEVEL SECURITY;

--
-- Name: users update_self; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY update_self ON app_public.users FOR UPDATE TO authenticated USING ((id = ( SELECT app_public.current_user_id() AS current_user_id))) WITH CHECK ((id = ( SELECT app_public.current_user_id() AS current_user_id)));

--
-- Name: users; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.users ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA app_hidden; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_hidden TO anon;
GRANT USAGE ON SCHEMA app_hidden TO authenticated;

--
-- Name: SCHEMA app_public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_public TO anon;
GRANT USAGE ON SCHEMA app_public TO authenticated;

--
-- Name: FUNCTION base64url(data bytea); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.base64url(data bytea) FROM PUBLIC;

--
-- Name: FUNCTION configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION publish_stream_event(stream_id uuid, kind text, payload jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) FROM PUBLIC;

--
-- Name: FUNCTION sign_jwt(user_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.sign_jwt(user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION tg__timestamps(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__timestamps() FROM PUBLIC;

--
-- Name: TABLE users; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.users TO anon;
GRANT SELECT ON TABLE app_public.users TO authenticated;

--
-- Name: COLUMN users.display_name; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(display_name) ON TABLE app_public.users TO authenticated;

--
-- Name: COLUMN users.avatar_url; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(avatar_url) ON TABLE app_public.users TO authenticated;

--
-- Name: FUNCTION "current_user"(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public."current_user"() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public."current_user"() TO anon;
GRANT ALL ON FUNCTION app_public."current_user"() TO authenticated;

--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.current_user_id() TO anon;
GRANT ALL ON FUNCTION app_public.current_user_id() TO authenticated;

--
-- Name: TABLE streams; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.streams TO anon;
GRANT SELECT ON TABLE app_public.streams TO authenticated;

--
-- Name: FUNCTION end_stream(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.end_stream(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.end_stream(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION go_live(title text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.go_live(title text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.go_live(title text) TO authenticated;

--
-- Name: FUNCTION live_streams(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.live_streams() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.live_streams() TO anon;
GRANT ALL ON FUNCTION app_public.live_streams() TO authenticated;

--
-- Name: FUNCTION login(username_or_email text, password text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.login(username_or_email text, password text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.login(username_or_email text, password text) TO anon;

--
-- Name: FUNCTION register(username text, email text, password text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.register(username text, email text, password text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.register(username text, email text, password text) TO anon;

--
-- Name: FUNCTION user_by_username(username text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.user_by_username(username text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.user_by_username(username text) TO anon;
GRANT ALL ON FUNCTION app_public.user_by_username(username text) TO authenticated;

--
-- PostgreSQL database dump complete
--
