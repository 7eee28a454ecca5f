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
-- Name: gift_request; Type: TYPE; Schema: app_private; Owner: -
--

CREATE TYPE app_private.gift_request AS (
	ord integer,
	sender_id uuid,
	stream_raw text,
	stream_uuid uuid,
	gift_raw text,
	gift_uuid uuid,
	qty_raw text,
	qty integer,
	idem_key text,
	u_id uuid,
	username text,
	display_name text,
	avatar_url text,
	is_banned boolean,
	s_id uuid,
	s_status text,
	broadcaster_id uuid,
	g_id uuid,
	slug text,
	g_name text,
	art_url text,
	coin_price integer,
	active boolean,
	w_balance bigint,
	l_id bigint,
	l_stream uuid,
	l_gift uuid,
	l_qty integer,
	l_coins bigint,
	l_created timestamp with time zone,
	srank bigint,
	kgroup integer,
	sfirst boolean,
	pre_code text,
	pre_message text,
	check_code text,
	check_message text
);

--
-- Name: TYPE gift_request; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TYPE app_private.gift_request IS 'One request of a send_gifts batch, parsed and joined with what its rules read (app_private.gift_request_rows).';

--
-- Name: stream_event_kind; Type: DOMAIN; Schema: app_private; Owner: -
--

CREATE DOMAIN app_private.stream_event_kind AS text
	CONSTRAINT stream_event_kind_check CHECK ((VALUE = ANY (ARRAY['chat'::text, 'chat_deleted'::text, 'gift'::text, 'viewer_count'::text, 'seat'::text, 'leaderboard'::text, 'earnings'::text, 'stream_state'::text])));

--
-- Name: DOMAIN stream_event_kind; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON DOMAIN app_private.stream_event_kind IS 'Kinds of stream events (a domain, not a table CHECK: its check is compiled once per session instead of once per INSERT).';

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
-- Name: admin_user; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.admin_user AS (
	id uuid,
	username text,
	display_name text,
	email text,
	role app_public.app_role,
	is_banned boolean,
	balance bigint,
	created_at timestamp with time zone
);

--
-- Name: TYPE admin_user; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.admin_user IS 'A user as the admin console shows them (with e-mail and balance).';

--
-- Name: chat_message; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.chat_message AS (
	id bigint,
	stream_id uuid,
	sender_id uuid,
	body text,
	client_id text,
	sender jsonb,
	created_at timestamp with time zone
);

--
-- Name: TYPE chat_message; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.chat_message IS 'A chat message as clients render it: the sender''s identity travels with it.';

--
-- Name: COLUMN chat_message.client_id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.chat_message.client_id IS 'Opaque id the sending client chose, echoed so it can match its optimistic message.';

--
-- Name: COLUMN chat_message.sender; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.chat_message.sender IS 'id, username, display_name, avatar_url, role, badge (host, moderator, admin or null) and vehicle_status of the sender.';

--
-- Name: failed_gift; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.failed_gift AS (
	id bigint,
	created_at timestamp with time zone,
	status text,
	batch_id bigint,
	sender_username text,
	receiver_username text,
	coins bigint
);

--
-- Name: TYPE failed_gift; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.failed_gift IS 'A gift settlement did not settle (refunded to the sender).';

--
-- Name: gift_receipt; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.gift_receipt AS (
	gift_ledger_id bigint,
	stream_id uuid,
	gift_id uuid,
	quantity integer,
	coins bigint,
	status text,
	balance bigint,
	replayed boolean,
	created_at timestamp with time zone
);

--
-- Name: TYPE gift_receipt; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.gift_receipt IS 'What send_gift accepted: ledger id, price paid, the sender''s balance now, and whether this was a replay of an earlier request with the same idempotency key.';

--
-- Name: leaderboard_entry; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.leaderboard_entry AS (
	rank integer,
	user_id uuid,
	username text,
	display_name text,
	avatar_url text,
	coins bigint,
	gifts bigint
);

--
-- Name: TYPE leaderboard_entry; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.leaderboard_entry IS 'One leaderboard row: a broadcaster (by coins received) or a gifter (by coins spent).';

--
-- Name: livekit_failure; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.livekit_failure AS (
	stream_id uuid,
	stream_title text,
	username text,
	can_publish boolean,
	attempts integer,
	last_error text,
	updated_at timestamp with time zone
);

--
-- Name: TYPE livekit_failure; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.livekit_failure IS 'A LiveKit seat enforcement that keeps failing.';

--
-- Name: livekit_grant; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.livekit_grant AS (
	room text,
	identity text,
	can_publish boolean,
	can_subscribe boolean,
	can_publish_data boolean,
	room_admin boolean,
	ttl_seconds integer
);

--
-- Name: TYPE livekit_grant; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.livekit_grant IS 'What a LiveKit token for one user and one stream may do; computed from database state only.';

--
-- Name: COLUMN livekit_grant.room; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.room IS 'LiveKit room name: the stream id.';

--
-- Name: COLUMN livekit_grant.identity; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.identity IS 'LiveKit identity: always the user id.';

--
-- Name: COLUMN livekit_grant.can_publish; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.can_publish IS 'Publish audio/video: the broadcaster and holders of an active seat.';

--
-- Name: COLUMN livekit_grant.can_subscribe; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.can_subscribe IS 'Watch the stage: everyone allowed in the room.';

--
-- Name: COLUMN livekit_grant.can_publish_data; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.can_publish_data IS 'Send data messages: publishers only.';

--
-- Name: COLUMN livekit_grant.room_admin; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.room_admin IS 'Administer the room (admins).';

--
-- Name: COLUMN livekit_grant.ttl_seconds; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.livekit_grant.ttl_seconds IS 'Token lifetime: minutes for publishers (never past the seat''s expiry), an hour for viewers.';

--
-- Name: moderation_log_entry; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.moderation_log_entry AS (
	id bigint,
	created_at timestamp with time zone,
	action text,
	stream_id uuid,
	stream_title text,
	actor_username text,
	target_username text,
	reason text
);

--
-- Name: TYPE moderation_log_entry; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.moderation_log_entry IS 'One moderation action, with the names the log shows (stream null: site-wide).';

--
-- Name: playback_state; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.playback_state AS (
	stream_id uuid,
	provider text,
	mode text,
	hls_provider text,
	hls_url text,
	hls_ready boolean,
	latency_mode text,
	pending text,
	switched_at timestamp with time zone,
	viewer_count integer
);

--
-- Name: TYPE playback_state; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.playback_state IS 'What a player needs to pick its path.';

--
-- Name: COLUMN playback_state.provider; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.provider IS 'The current path''s provider: livekit (the WebRTC stage), mux, cdn or origin.';

--
-- Name: COLUMN playback_state.mode; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.mode IS 'stage (WebRTC, sub-second latency) or hls (viral mode).';

--
-- Name: COLUMN playback_state.hls_url; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.hls_url IS 'The derived HLS URL (app_public.streams_hls_url).';

--
-- Name: COLUMN playback_state.hls_ready; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.hls_ready IS 'The last health check of exactly this URL passed: a player may fall back to it.';

--
-- Name: COLUMN playback_state.latency_mode; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.latency_mode IS 'low (stage) or standard (HLS).';

--
-- Name: COLUMN playback_state.pending; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.pending IS 'A transition the worker is checking: to_hls, to_stage or verify.';

--
-- Name: COLUMN playback_state.viewer_count; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_state.viewer_count IS 'Viewers now (null until the realtime feature counts them).';

--
-- Name: stream_event; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.stream_event AS (
	id bigint,
	kind text,
	at timestamp with time zone,
	payload jsonb
);

--
-- Name: TYPE stream_event; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.stream_event IS 'One relayed stream event, exactly as the broadcast socket and the streamEvents subscription deliver it.';

--
-- Name: COLUMN stream_event.id; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_event.id IS 'Delivery number: increasing per stream in delivery order; resume after the last one seen.';

--
-- Name: COLUMN stream_event.kind; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_event.kind IS 'chat, chat_deleted, gift, viewer_count, seat, leaderboard, earnings or stream_state.';

--
-- Name: COLUMN stream_event.at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_event.at IS 'When the event was produced.';

--
-- Name: COLUMN stream_event.payload; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_event.payload IS 'Self-contained event data (see docs/realtime-protocol.md).';

--
-- Name: wallet_entry; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.wallet_entry AS (
	id bigint,
	created_at timestamp with time zone,
	kind text,
	amount bigint,
	description text
);

--
-- Name: TYPE wallet_entry; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.wallet_entry IS 'One line of the caller''s wallet history; amount is signed (negative: coins left the wallet).';

--
-- Name: wallet_summary; Type: TYPE; Schema: app_public; Owner: -
--

CREATE TYPE app_public.wallet_summary AS (
	user_id uuid,
	balance bigint,
	updated_at timestamp with time zone
);

--
-- Name: TYPE wallet_summary; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TYPE app_public.wallet_summary IS 'A user''s spendable coins.';

--
-- Name: can_moderate_stream(uuid); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.can_moderate_stream(stream_id uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
begin
  return exists (select 1 from app_public.streams s where s.id = can_moderate_stream.stream_id and s.broadcaster_id = v_uid)
      or exists (select 1 from app_public.users u where u.id = v_uid and u.role in ('moderator', 'admin'));
end;
$$;

--
-- Name: FUNCTION can_moderate_stream(stream_id uuid); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.can_moderate_stream(stream_id uuid) IS 'True when the caller is the stream''s broadcaster or a moderator/admin.';

--
-- Name: clean_line(text, text, integer, integer); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer DEFAULT 1) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  r record;
begin
  select * into r from app_hidden.line_problem(value, what, max_chars, min_chars);
  if r.problem is not null then
    raise exception '%', r.problem using errcode = 'BADIN';
  end if;
  return r.line;
end;
$$;

--
-- Name: FUNCTION clean_line(value text, what text, max_chars integer, min_chars integer); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) IS 'One line of user text, NFC-normalised and trimmed (null when blank), or BADIN naming the field: too short/long, or holding a character of app_hidden.hidden_chars() (the message names its code point).';

--
-- Name: count_login_failure(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.count_login_failure(username_or_email text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if username_or_email is null or char_length(username_or_email) > 320 then
    return 0;
  end if;
  return app_private.record_login_failure(username_or_email);
end;
$$;

--
-- Name: FUNCTION count_login_failure(username_or_email text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.count_login_failure(username_or_email text) IS 'Records one failed sign-in for the account the identifier names (app_private.record_login_failure), in the caller''s own transaction. Called by the API server after app_public.login answered CREDS (its hint says so).';

--
-- Name: hidden_chars(); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.hidden_chars() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- One regular expression (PostgreSQL ARE) for every character a single line of user text may not
  -- contain (docs/security.md, "Text that lies"). Explicit code points, never [[:cntrl:]]: character
  -- classes above ASCII depend on the database locale.
  --   Cc controls U+0001-U+001F, U+007F-U+009F (tab and newlines too: single line)
  --   soft hyphen U+00AD; Arabic/Syriac format marks U+0600-U+0605, U+061C (ALM), U+06DD, U+070F,
  --   U+0890-U+0891, U+08E2; Mongolian vowel separator U+180E
  --   zero width U+200B (ZWSP), U+200C (ZWNJ), U+2060-U+2064 (word joiner, invisible operators), U+FEFF
  --   bidi marks and controls U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, deprecated U+206A-U+206F
  --   separators U+2028, U+2029; Hangul fillers U+115F, U+1160, U+3164, U+FFA0 (render as blanks)
  --   interlinear annotation U+FFF9-U+FFFB; noncharacters U+FFFE, U+FFFF; other format characters
  --   U+110BD, U+110CD, U+13430-U+1343F, U+1BCA0-U+1BCA3, U+1D173-U+1D17A; tags U+E0000-U+E007F
  --   U+200D (ZWJ) except between two emoji (👩‍💻, 🏳️‍🌈 are ZWJ sequences)
  select '[\u0001-\u001F\u007F-\u009F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u115F\u1160\u180E'
    || '\u200B\u200C\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF'
    || '\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0000-\U000E007F]'
    || '|(?<![\u00A9\u00AE\u203C\u2049\u2122\u2139\u2194-\u21AA\u231A-\u23FF\u24C2\u25AA-\u27BF\u2934\u2935\u2B05-\u2B55'
    || '\u3030\u303D\u3297\u3299\uFE0F\U0001F000-\U0001FAFF])\u200D'
    || '|\u200D(?![\u00A9\u00AE\u203C\u2049\u2122\u2139\u2194-\u21AA\u231A-\u23FF\u24C2\u25AA-\u27BF\u2934\u2935\u2B05-\u2B55'
    || '\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF])'
$$;

--
-- Name: FUNCTION hidden_chars(); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.hidden_chars() IS 'The regular expression matching every character single-line user text may not contain: controls, bidi controls, zero-width and invisible characters, line/paragraph separators, soft hyphen, tag characters (docs/security.md).';

--
-- Name: is_clean_line(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.is_clean_line(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select value is null or (value is nfc normalized and value !~ app_hidden.hidden_chars())
$$;

--
-- Name: FUNCTION is_clean_line(value text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.is_clean_line(value text) IS 'True when a single line of user text is NFC and holds none of app_hidden.hidden_chars() (null is clean). The CHECK constraint of every single-line text column.';

--
-- Name: line_problem(text, text, integer, integer); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer DEFAULT 1) RETURNS TABLE(line text, problem text)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
-- The single-line text rule without raising (for batch functions that answer each request): the
-- line NFC-normalised and trimmed (null when blank), and why it is refused (null when it is not).
-- app_hidden.clean_line raises with the same message.
declare
  v_bad text;
begin
  line := nullif(btrim(normalize(value, nfc),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '');
  if coalesce(char_length(line), 0) < min_chars or char_length(line) > max_chars then
    problem := case when min_chars > 0 then format('%s must be %s-%s characters', what, min_chars, max_chars)
                    else format('%s must be at most %s characters', what, max_chars) end;
  else
    v_bad := substring(line from app_hidden.hidden_chars());
    if v_bad is not null then
      problem := format('%s contains an invisible or control character (U+%s)', what, upper(lpad(to_hex(ascii(v_bad)), 4, '0')));
    end if;
  end if;
  return next;
end;
$$;

--
-- Name: FUNCTION line_problem(value text, what text, max_chars integer, min_chars integer); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) IS 'One line of user text, NFC-normalised and trimmed (null when blank), and the BADIN message it would get (null when it is fine): the rule of app_hidden.clean_line, for callers that must not raise.';

--
-- Name: playback_health_rows(); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.playback_health_rows() RETURNS TABLE(stream_id uuid, title text, status text, hls_provider text, mode text, pending text, pending_reason text, attempts integer, check_due_at timestamp with time zone, last_check_at timestamp with time zone, last_check_ok boolean, last_check_url text, last_error text, alerting boolean, failure_reports integer, failure_reports_5m integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
 SELECT p.stream_id,
    s.title,
    s.status,
    p.hls_provider,
    p.mode,
    p.pending,
    p.pending_reason,
    p.attempts,
    p.check_due_at,
    p.last_check_at,
    p.last_check_ok,
    p.last_check_url,
    p.last_error,
    COALESCE(p.last_check_ok = false, false) AS alerting,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id))::integer AS failure_reports,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id AND r.reported_at > (pg_catalog.now() - '00:05:00'::interval)))::integer AS failure_reports_5m
   FROM app_private.stream_playback p
     JOIN app_public.streams s ON s.id = p.stream_id
  WHERE s.broadcaster_id = app_public.current_user_id()
     OR (EXISTS ( SELECT 1
           FROM app_public.users u
          WHERE u.id = app_public.current_user_id() AND u.role = 'admin'::app_public.app_role))
$$;

--
-- Name: FUNCTION playback_health_rows(); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.playback_health_rows() IS 'The rows of app_public.playback_health: SECURITY DEFINER (they come from app_private), every stream for an admin caller, the caller''s own streams for a broadcaster, no rows otherwise.';

--
-- Name: stream_category_valid(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.stream_category_valid(category text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  select $1 = any (app_public.stream_categories())
$_$;

--
-- Name: FUNCTION stream_category_valid(category text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.stream_category_valid(category text) IS 'Whether a category is one of stream_categories() (the streams_category_check constraint).';

--
-- Name: stream_thumbnail_url_valid(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.stream_thumbnail_url_valid(url text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  select char_length($1) <= 2000 and $1 ~ '^(https://[^/\s]+|/(?!/))[^\s]*$'
$_$;

--
-- Name: FUNCTION stream_thumbnail_url_valid(url text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.stream_thumbnail_url_valid(url text) IS 'Whether a thumbnail URL is acceptable (the streams_thumbnail_url_check constraint): https:// or a path on this site, at most 2000 characters, no whitespace.';

--
-- Name: strip_hidden(text); Type: FUNCTION; Schema: app_hidden; Owner: -
--

CREATE FUNCTION app_hidden.strip_hidden(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select nullif(btrim(regexp_replace(regexp_replace(normalize(value, nfc), '[\t\n\r\u0085\u2028\u2029]+', ' ', 'g'), app_hidden.hidden_chars(), '', 'g'),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '')
$$;

--
-- Name: FUNCTION strip_hidden(value text); Type: COMMENT; Schema: app_hidden; Owner: -
--

COMMENT ON FUNCTION app_hidden.strip_hidden(value text) IS 'A line with every character of app_hidden.hidden_chars() removed, NFC, trimmed (null when nothing is left). For text that must not be refused (telemetry) and for repairing old rows.';

--
-- Name: add_job(text, json, timestamp with time zone, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if to_regnamespace('graphile_worker') is null then
    raise exception 'graphile_worker is not installed: start the worker once (npm start or npm run worker)' using errcode = 'CONFG';
  end if;
  perform graphile_worker.add_job(task, payload, queue_name, run_at, 25, job_key);
end;
$$;

--
-- Name: FUNCTION add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) IS 'Enqueue a graphile-worker job (replacing a pending one with the same key; jobs of one named queue run one at a time). CONFG when the worker schema is missing.';

--
-- Name: apply_viewer_count(uuid, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.apply_viewer_count(stream_id uuid, viewer_count integer) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_cfg app_private.playback_settings;
  v_state app_private.stream_playback;
  v_stream app_public.streams;
begin
  if viewer_count is null then
    return null;
  end if;
  select * into v_cfg from app_private.playback_settings;
  select * into v_stream from app_public.streams s where s.id = apply_viewer_count.stream_id;
  if v_stream.id is null or v_stream.status <> 'live' then
    return null;
  end if;
  if viewer_count >= v_cfg.viral_enter_viewers then
    insert into app_private.stream_playback (stream_id) values (v_stream.id) on conflict do nothing;
  end if;
  select * into v_state from app_private.stream_playback p where p.stream_id = v_stream.id;
  if v_state.stream_id is null or v_state.pinned then
    return null;
  end if;
  if viewer_count >= v_cfg.viral_enter_viewers
     and (app_public.streams_hls_url(v_stream) is not null or app_private.stream_needs_egress(v_stream.id, v_state.hls_provider))
     and (v_state.mode = 'stage' and v_state.pending is null or v_state.pending = 'to_stage') then
    return app_private.request_transition(v_stream.id, 'hls', 'threshold', null);
  end if;
  if viewer_count < v_cfg.viral_exit_viewers
     and (v_state.mode = 'hls' and v_state.pending is null or v_state.mode = 'stage' and v_state.pending = 'to_hls') then
    return app_private.request_transition(v_stream.id, 'stage', 'threshold', null);
  end if;
  return null;
end;
$$;

--
-- Name: FUNCTION apply_viewer_count(stream_id uuid, viewer_count integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.apply_viewer_count(stream_id uuid, viewer_count integer) IS 'Viral-mode thresholds for one stream and its current viewer count; returns the transition it requested.';

--
-- Name: base64url(bytea); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.base64url(data bytea) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select translate(rtrim(replace(encode(data, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: coin_packs; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.coin_packs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    coins integer NOT NULL,
    price_cents integer NOT NULL,
    currency text DEFAULT 'USD'::text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    sort integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT coin_packs_coins_check CHECK (((coins >= 1) AND (coins <= 10000000))),
    CONSTRAINT coin_packs_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT coin_packs_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 60))),
    CONSTRAINT coin_packs_price_cents_check CHECK (((price_cents >= 50) AND (price_cents <= 1000000))),
    CONSTRAINT coin_packs_slug_check CHECK ((slug ~ '^[a-z][a-z0-9-]{1,40}$'::text))
);

ALTER TABLE ONLY app_public.coin_packs FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE coin_packs; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.coin_packs IS 'Coin packs for sale through Stripe Checkout (the operator edits this catalogue).';

--
-- Name: COLUMN coin_packs.slug; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.coin_packs.slug IS 'Stable name of the pack, used by the checkout form.';

--
-- Name: COLUMN coin_packs.coins; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.coin_packs.coins IS 'Coins credited when the pack is paid.';

--
-- Name: COLUMN coin_packs.price_cents; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.coin_packs.price_cents IS 'Price in the currency''s minor unit (cents).';

--
-- Name: COLUMN coin_packs.currency; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.coin_packs.currency IS 'ISO 4217 currency code (upper case).';

--
-- Name: COLUMN coin_packs.active; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.coin_packs.active IS 'Only active packs are listed and sold.';

--
-- Name: checkout_pack(uuid, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.checkout_pack(user_id uuid, pack_slug text) RETURNS app_public.coin_packs
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
  v_pack app_public.coin_packs;
begin
  select u.* into v_user from app_public.users u where u.id = checkout_pack.user_id;
  if v_user.id is null then
    raise exception 'sign in to buy coins' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  select p.* into v_pack from app_public.coin_packs p where p.slug = checkout_pack.pack_slug and p.active;
  if v_pack.id is null then
    raise exception 'coin pack "%" is not on sale', pack_slug using errcode = 'NOFND';
  end if;
  return v_pack;
end;
$$;

--
-- Name: FUNCTION checkout_pack(user_id uuid, pack_slug text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.checkout_pack(user_id uuid, pack_slug text) IS 'The active coin pack a signed-in, unbanned user may buy (the server then opens a Stripe Checkout Session). Errors: NOAUT, BANND, NOFND.';

--
-- Name: claim_hls_checks(integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.claim_hls_checks(lease_seconds integer DEFAULT 30, max_rows integer DEFAULT 100) RETURNS TABLE(stream_id uuid, pending text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  -- A stream that ended has nothing left to switch.
  update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
    from app_public.streams s
   where s.id = p.stream_id and s.status <> 'live' and p.pending is not null;
  return query
    with due as (
      select p.stream_id from app_private.stream_playback p
       where p.check_due_at <= now()
         -- A switch to HLS whose egress is not active yet waits for it (record_egress makes it due).
         and not (p.pending = 'to_hls' and exists (
               select 1 from app_private.stream_egresses e
                where e.stream_id = p.stream_id and e.state in ('requested', 'starting', 'retrying')))
       order by p.check_due_at
       limit max_rows
       for update skip locked
    )
    update app_private.stream_playback p
       set check_due_at = now() + make_interval(secs => lease_seconds)
      from due
     where p.stream_id = due.stream_id
    returning p.stream_id, p.pending;
end;
$$;

--
-- Name: FUNCTION claim_hls_checks(lease_seconds integer, max_rows integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.claim_hls_checks(lease_seconds integer, max_rows integer) IS 'Due checks for the worker (streams__viral_tick enqueues one streams__check_hls job each); leased, not removed.';

--
-- Name: claw_back_payment(text, text, text, bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint) RETURNS TABLE(clawed bigint, debt bigint, balance bigint, duplicate boolean)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  v_session app_private.checkout_sessions;
  v_target bigint;
  v_owed bigint;
  v_balance bigint;
  v_take bigint;
begin
  if event_type not in ('charge.refunded', 'charge.dispute.created') then
    raise exception 'event type % does not claw coins back', event_type using errcode = 'BADIN';
  end if;
  select * into v_session from app_private.checkout_sessions s where s.payment_intent = claw_back_payment.payment_intent for update;
  if v_session.id is null then
    raise exception 'no fulfilled checkout session for payment %', payment_intent using errcode = 'NOFND';
  end if;
  insert into app_private.stripe_events (event_id, type) values (claw_back_payment.event_id, claw_back_payment.event_type)
    on conflict do nothing;
  if not found then
    select w.balance into v_balance from app_private.wallets w where w.user_id = v_session.user_id;
    return query select 0::bigint, 0::bigint, coalesce(v_balance, 0::bigint), true;
    return;
  end if;
  -- The coins this payment's reversals cover so far (a refund's amount is cumulative), proportional
  -- to the money given back and never more than the pack's coins.
  v_target := case when v_session.amount_cents > 0
                   then least(v_session.coins, ceil(v_session.coins::numeric * greatest(amount_cents, 0) / v_session.amount_cents)::bigint)
                   else v_session.coins end;
  v_owed := greatest(v_target - v_session.coins_clawed, 0);
  select w.balance into v_balance from app_private.wallets w where w.user_id = v_session.user_id for update;
  v_balance := coalesce(v_balance, 0);
  v_take := least(v_balance, v_owed);
  if v_take > 0 then
    insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, amount, reference, note)
      values ('purchase_reversal', 'user', v_session.user_id, 'issuer', v_take, 'stripe:' || claw_back_payment.event_id,
              format('%s for checkout session %s', event_type, v_session.id));
    update app_private.wallets w set balance = w.balance - v_take, updated_at = now() where w.user_id = v_session.user_id;
  end if;
  if v_owed - v_take > 0 then
    insert into app_private.wallet_debts (user_id, outstanding, original, reason, reference)
      values (v_session.user_id, v_owed - v_take, v_owed - v_take, event_type, 'stripe:' || claw_back_payment.event_id);
  end if;
  update app_private.checkout_sessions s
     set coins_clawed = s.coins_clawed + v_owed,
         status = case when event_type = 'charge.dispute.created' then 'disputed' else 'refunded' end
   where s.id = v_session.id;
  return query select v_take, v_owed - v_take, v_balance - v_take, false;
end;
$$;

--
-- Name: FUNCTION claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint) IS 'A refund (charge.refunded, cumulative amount_refunded) or chargeback (charge.dispute.created, disputed amount) takes the purchase''s coins back in proportion to the money returned: from the balance as far as it goes (user -> issuer, purchase_reversal), the rest recorded in app_private.wallet_debts and settled from the next purchases. No coin is created or destroyed. Idempotent on the event id. Errors: NOFND (payment not ours), BADIN.';

--
-- Name: clear_presence(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.clear_presence(node_id text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  delete from app_private.presence_counts p where p.node_id = clear_presence.node_id;
$$;

--
-- Name: FUNCTION clear_presence(node_id text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.clear_presence(node_id text) IS 'A Node process shutting down removes its presence rows.';

--
-- Name: configure_auth(text, text, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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
-- Name: configure_egress(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.configure_egress(egress_target text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if egress_target is not null and egress_target not in ('mux', 'origin') then
    raise exception 'egress target must be mux, origin or null (got "%")', egress_target using errcode = 'BADIN';
  end if;
  update app_private.playback_settings s set egress_target = configure_egress.egress_target;
end;
$$;

--
-- Name: FUNCTION configure_egress(egress_target text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.configure_egress(egress_target text) IS 'Called by the server at start: where a stream going viral is sent by a LiveKit egress (mux: RTMP to a Mux live stream; origin: HLS segments to the origin; null: no egress, HLS sources are configured per stream).';

--
-- Name: configure_playback(text, text, text, text, integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text DEFAULT NULL::text, origin_path_template text DEFAULT NULL::text, viral_enter_viewers integer DEFAULT NULL::integer, viral_exit_viewers integer DEFAULT NULL::integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_old app_private.playback_settings;
  v_new app_private.playback_settings;
begin
  select * into v_old from app_private.playback_settings for update;
  update app_private.playback_settings s set
    origin_base_url = nullif(rtrim(configure_playback.origin_base_url, '/'), ''),
    cdn_base_url = nullif(rtrim(configure_playback.cdn_base_url, '/'), ''),
    mux_base_url = coalesce(nullif(rtrim(configure_playback.mux_base_url, '/'), ''), s.mux_base_url),
    origin_path_template = coalesce(configure_playback.origin_path_template, s.origin_path_template),
    viral_enter_viewers = coalesce(configure_playback.viral_enter_viewers, s.viral_enter_viewers),
    viral_exit_viewers = coalesce(configure_playback.viral_exit_viewers, s.viral_exit_viewers)
  returning * into v_new;
  -- A stream already on HLS may now have another URL: verify it (viewers stay where they are).
  if (v_old.origin_base_url, v_old.cdn_base_url, v_old.mux_base_url, v_old.origin_path_template)
     is distinct from (v_new.origin_base_url, v_new.cdn_base_url, v_new.mux_base_url, v_new.origin_path_template) then
    update app_private.stream_playback p
       set pending = 'verify', pending_reason = 'config', check_due_at = now(), attempts = 0
     where p.mode = 'hls' and p.pending is null;
  end if;
exception
  when check_violation then
    raise exception 'invalid playback settings: %', sqlerrm using errcode = 'BADIN';
end;
$$;

--
-- Name: FUNCTION configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) IS 'Called by the server at start with PLAYBACK_* config. Null keeps the current value (origin and CDN: null clears).';

--
-- Name: egress_job(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.egress_job(id uuid) RETURNS TABLE(id uuid, stream_id uuid, room text, target text, state text, action text, egress_id text, mux_live_stream_id text, segment_prefix text, playlist_name text, live_playlist_name text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  -- What the stream_egresses__run job must do for one egress: start it (requested, or retrying and
  -- due), wait for it to become active (starting), check it still runs (active), stop it (stopping),
  -- or nothing. A Mux live stream
  -- made for an earlier egress of the stream is reused. Origin egresses write their live playlist where
  -- the stream's HLS URL points (origin_path_template), segments beside it.
  select e.id, e.stream_id, e.stream_id::text, e.target, e.state,
         case
           when e.state in ('requested', 'retrying') and s.status = 'live' and coalesce(e.next_attempt_at, now()) <= now() then 'start'
           when e.state = 'starting' then 'poll'
           when e.state = 'active' then 'watch'
           when e.state = 'stopping' then 'stop'
           else 'none'
         end,
         e.egress_id,
         coalesce(e.mux_live_stream_id,
                  (select p.mux_live_stream_id from app_private.stream_egresses p
                    where p.stream_id = e.stream_id and p.mux_live_stream_id is not null order by p.created_at desc limit 1)),
         path.dir || 'seg',
         path.dir || 'full.m3u8',
         path.dir || path.file
    from app_private.stream_egresses e
    join app_public.streams s on s.id = e.stream_id
    left join app_private.stream_playback sp on sp.stream_id = e.stream_id
    cross join app_private.playback_settings cfg
    cross join lateral (
      select ltrim(regexp_replace(p, '[^/]*$', ''), '/') as dir, regexp_replace(p, '^.*/', '') as file
        from (select coalesce(sp.origin_path, replace(cfg.origin_path_template, '{stream_id}', e.stream_id::text)) as p) x
    ) path
   where e.id = egress_job.id
$_$;

--
-- Name: FUNCTION egress_job(id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.egress_job(id uuid) IS 'One egress as the stream_egresses__run job sees it, and the action it must take (start, poll, watch, stop, none).';

--
-- Name: egress_metrics(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.egress_metrics() RETURNS TABLE(active integer, starting integer, failed integer, failures integer)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select (select count(*) from app_private.stream_egresses where state = 'active')::integer,
         (select count(*) from app_private.stream_egresses where state in ('requested', 'starting', 'retrying'))::integer,
         (select count(*) from app_private.stream_egresses where state = 'failed')::integer,
         (select coalesce(sum(e.failures), 0) from app_private.stream_egresses e)::integer
$$;

--
-- Name: FUNCTION egress_metrics(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.egress_metrics() IS 'Figures for /metrics (trollcity_egress_*).';

--
-- Name: expire_due_seats(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.expire_due_seats(stream_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.stream_id = expire_due_seats.stream_id and s.status in ('invited', 'active') and s.expires_at <= now();
$$;

--
-- Name: FUNCTION expire_due_seats(stream_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.expire_due_seats(stream_id uuid) IS 'Marks a stream''s overdue open seats expired (before new seats take slots).';

--
-- Name: stream_seats; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.stream_seats (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    slot smallint NOT NULL,
    status text DEFAULT 'invited'::text NOT NULL,
    invited_by uuid,
    duration_seconds integer,
    expires_at timestamp with time zone,
    accepted_at timestamp with time zone,
    ended_at timestamp with time zone,
    ended_by uuid,
    end_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_seats_check CHECK (((status = ANY (ARRAY['invited'::text, 'active'::text])) = (ended_at IS NULL))),
    CONSTRAINT stream_seats_check1 CHECK (((status <> 'active'::text) OR (accepted_at IS NOT NULL))),
    CONSTRAINT stream_seats_duration_seconds_check CHECK (((duration_seconds >= 10) AND (duration_seconds <= 86400))),
    CONSTRAINT stream_seats_end_reason_check CHECK ((char_length(end_reason) <= 200)),
    CONSTRAINT stream_seats_end_reason_clean CHECK (app_hidden.is_clean_line(end_reason)),
    CONSTRAINT stream_seats_slot_check CHECK (((slot >= 1) AND (slot <= 12))),
    CONSTRAINT stream_seats_status_check CHECK ((status = ANY (ARRAY['invited'::text, 'active'::text, 'left'::text, 'revoked'::text, 'expired'::text, 'ended'::text])))
);

ALTER TABLE ONLY app_public.stream_seats FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE stream_seats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.stream_seats IS 'A guest''s slot on a stream''s stage. Changed only through invite_to_seat, accept_seat, leave_seat, revoke_seat.';

--
-- Name: COLUMN stream_seats.slot; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.slot IS 'Position on stage, 1..seat_cap of the stream.';

--
-- Name: COLUMN stream_seats.status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.status IS 'invited, active (publishing), left, revoked, expired or ended (the stream ended).';

--
-- Name: COLUMN stream_seats.invited_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.invited_by IS 'Who sent the invitation.';

--
-- Name: COLUMN stream_seats.duration_seconds; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.duration_seconds IS 'How long the seat lasts once accepted; null: until left or revoked.';

--
-- Name: COLUMN stream_seats.expires_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.expires_at IS 'When the invitation (while invited) or the seat (while active) expires; enforced within a second.';

--
-- Name: COLUMN stream_seats.accepted_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.accepted_at IS 'When the guest accepted.';

--
-- Name: COLUMN stream_seats.ended_at; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.ended_at IS 'When the seat stopped being open.';

--
-- Name: COLUMN stream_seats.ended_by; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.ended_by IS 'Who ended it (the guest, or the manager who revoked it).';

--
-- Name: COLUMN stream_seats.end_reason; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.stream_seats.end_reason IS 'Why it ended (the revoke reason, or a system reason).';

--
-- Name: expire_seat(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.expire_seat(seat_id uuid) RETURNS app_public.stream_seats
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_seat app_public.stream_seats;
begin
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.id = expire_seat.seat_id and s.status in ('invited', 'active') and s.expires_at <= now()
  returning * into v_seat;
  if v_seat.id is null then
    select * into v_seat from app_public.stream_seats s where s.id = expire_seat.seat_id;
  end if;
  return v_seat;
end;
$$;

--
-- Name: FUNCTION expire_seat(seat_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.expire_seat(seat_id uuid) IS 'Worker: marks the seat expired when it is due; returns the seat (null when gone).';

--
-- Name: flush_chat_transcript(integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.flush_chat_transcript(max_rows integer DEFAULT 10000) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_moved int;
  v_days int;
begin
  -- One statement per batch: delete from the buffer, insert into the transcript. SKIP LOCKED makes
  -- concurrent flushes safe; messages of streams or users deleted meanwhile are dropped.
  with moved as (
    delete from app_private.chat_messages m
     where m.id in (select b.id from app_private.chat_messages b order by b.id limit max_rows for update skip locked)
    returning m.*
  )
  insert into app_private.chat_transcript (id, stream_id, sender_id, body, client_id, sender, created_at, deleted_at)
  select mv.id, mv.stream_id, mv.sender_id, mv.body, mv.client_id, mv.sender, mv.created_at, mv.deleted_at
    from moved mv
   where exists (select 1 from app_public.streams s where s.id = mv.stream_id)
     and exists (select 1 from app_public.users u where u.id = mv.sender_id)
  on conflict (id) do nothing;
  get diagnostics v_moved = row_count;
  select coalesce(max(value)::int, 30) into v_days from app_private.settings where key = 'chat_transcript_retention_days';
  delete from app_private.chat_transcript t
   where t.id in (select o.id from app_private.chat_transcript o
                   where o.created_at < now() - make_interval(days => v_days) limit max_rows);
  return v_moved;
end;
$$;

--
-- Name: FUNCTION flush_chat_transcript(max_rows integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.flush_chat_transcript(max_rows integer) IS 'Moves up to max_rows buffered chat messages into the durable transcript in one statement and prunes messages older than the chat_transcript_retention_days setting (default 30). Returns the number moved.';

--
-- Name: flush_presence(text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.flush_presence(node_id text, counts jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into app_private.presence_counts as p (node_id, stream_id, viewers, updated_at)
  select flush_presence.node_id, c.key::uuid, c.value::int, now()
    from jsonb_each_text(coalesce(counts, '{}')) c
  on conflict on constraint presence_counts_pkey do update set viewers = excluded.viewers, updated_at = excluded.updated_at;
  delete from app_private.presence_counts p
   where p.node_id = flush_presence.node_id and not (coalesce(counts, '{}') ? p.stream_id::text);
end;
$$;

--
-- Name: FUNCTION flush_presence(node_id text, counts jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.flush_presence(node_id text, counts jsonb) IS 'A Node process reports its live connections per stream ({"<stream id>": n}); streams it no longer serves are removed. Called every few seconds, also as a liveness signal.';

--
-- Name: fulfil_checkout(text, text, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb DEFAULT '{}'::jsonb) RETURNS TABLE(coin_transaction_id bigint, duplicate boolean, balance bigint, debt_paid bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  v_session app_private.checkout_sessions;
  v_issued record;
  v_paid bigint := 0;
begin
  select * into v_session from app_private.checkout_sessions s where s.id = fulfil_checkout.session_id for update;
  if v_session.id is null then
    raise exception 'checkout session % was not opened by this server', session_id using errcode = 'NOFND';
  end if;
  insert into app_private.stripe_events (event_id, type) values (fulfil_checkout.event_id, 'checkout.session.completed')
    on conflict do nothing;
  -- Idempotent on the session (purchase_coins is keyed on it) as well as on the event id.
  select * into v_issued
    from app_private.purchase_coins('stripe', v_session.id, v_session.user_id, v_session.coins,
                                    v_session.amount_cents, v_session.currency, coalesce(payload, '{}'));
  if not v_issued.duplicate then
    update app_private.checkout_sessions s
       set status = 'paid', payment_intent = fulfil_checkout.payment_intent, fulfilled_at = now()
     where s.id = v_session.id;
    -- Coins owed from an earlier refund or chargeback are paid first.
    v_paid := app_private.settle_wallet_debts(v_session.user_id);
  end if;
  return query select v_issued.coin_transaction_id, v_issued.duplicate, v_issued.balance - v_paid, v_paid;
end;
$$;

--
-- Name: FUNCTION fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb) IS 'Credits a paid Stripe Checkout Session''s coins (as recorded when it was opened), once: idempotent on the session and the event id. Open wallet debts are settled from the new coins first. Called by the webhook route only. Errors: NOFND (unknown session).';

--
-- Name: gift_audit(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.gift_audit() RETURNS TABLE(invariant text, detail text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
  with fates as (
    select g.id, g.receiver_id, g.sender_id, g.stream_id, g.coins, g.fee_coins, g.quantity, g.created_at,
           (q.gift_ledger_id is not null) as queued, o.n as outcomes, o.batch_id, o.outcome
      from app_private.gift_ledger g
      left join app_private.gift_settlement_queue q on q.gift_ledger_id = g.id
      left join (select o.gift_ledger_id, count(*) as n, min(o.batch_id) as batch_id, min(o.outcome) as outcome
                   from app_private.gift_outcomes o group by 1) o on o.gift_ledger_id = g.id
  ), settled as (
    select f.* from fates f
     where f.outcome = 'settled'
       and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = f.id)
  )
  -- Every wallet equals the sum of its entries in the journal.
  select 'wallet = journal', format('user %s: wallet %s, journal %s', coalesce(w.user_id, e.user_id), coalesce(w.balance, 0), coalesce(e.total, 0))
    from app_private.wallets w
    full join (select ce.user_id, sum(ce.amount) as total from app_private.coin_entries ce where ce.account = 'user' group by ce.user_id) e
      on e.user_id = w.user_id
   where coalesce(w.balance, 0) <> coalesce(e.total, 0)
  union all
  -- Escrow holds exactly the queued gifts.
  select 'escrow = pending gifts', format('escrow %s, pending %s', e.total, p.total)
    from (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'escrow') e,
         (select coalesce(sum(q.coins), 0) as total from app_private.gift_settlement_queue q) p
   where e.total <> p.total
  union all
  -- Conservation: wallets + pending + platform = coins issued.
  select 'coins conserved', format('wallets %s + pending %s + platform %s <> issued %s', w.total, p.total, f.total, i.total)
    from (select coalesce(sum(balance), 0) as total from app_private.wallets) w,
         (select coalesce(sum(q.coins), 0) as total from app_private.gift_settlement_queue q) p,
         (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'platform') f,
         (select coalesce(-sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'issuer') i
   where w.total + p.total + f.total <> i.total
  union all
  -- Exactly once: every gift is either queued or taken by exactly one batch.
  select 'gift has exactly one fate', format('gift %s: queued %s, taken by %s batches', f.id, f.queued, coalesce(f.outcomes, 0))
    from fates f
   where f.queued::int + coalesce(f.outcomes, 0) <> 1
  union all
  select 'queue/batch entries name ledger gifts', format('gift %s', x.id)
    from (select q.gift_ledger_id as id from app_private.gift_settlement_queue q
          union all
          select o.gift_ledger_id from app_private.gift_outcomes o) x
   where not exists (select 1 from app_private.gift_ledger g where g.id = x.id)
  union all
  -- Queue rows are exact copies of their ledger rows.
  select 'queue row = ledger row', format('gift %s', q.gift_ledger_id)
    from app_private.gift_settlement_queue q
    join app_private.gift_ledger g on g.id = q.gift_ledger_id
   where (q.sender_id, q.receiver_id, q.stream_id, q.quantity, q.coins, q.fee_coins, q.created_at)
         is distinct from (g.sender_id, g.receiver_id, g.stream_id, g.quantity, g.coins, g.fee_coins, g.created_at)
  union all
  -- Settled gifts: each one credited exactly once (receiver credits per batch = net of that batch's gifts).
  select 'batch credits = settled gifts', format('batch %s receiver %s: credited %s, settled net %s', coalesce(c.batch_id, g.batch_id),
                                                coalesce(c.user_id, g.receiver_id), coalesce(c.total, 0), coalesce(g.total, 0))
    from (select t.batch_id, t.credit_user_id as user_id, sum(t.amount) as total from app_private.coin_transactions t
           where t.kind = 'gift_settlement' group by 1, 2) c
    full join (select f.batch_id, f.receiver_id, sum(f.coins - f.fee_coins) as total from fates f
                where f.outcome = 'settled' and f.coins > f.fee_coins group by 1, 2) g
      on g.batch_id = c.batch_id and g.receiver_id = c.user_id
   where coalesce(c.total, 0) <> coalesce(g.total, 0)
  union all
  -- Stats equal aggregates recomputed from the ledger (settled gifts, minus reversed ones).
  select 'broadcaster_stats = ledger', format('%s %s %s: stats %s/%s/%s, ledger %s/%s/%s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.period, l.period), coalesce(s.period_start, l.period_start), s.coins, s.earned_coins, s.gifts, l.coins, l.earned, l.gifts)
    from app_public.broadcaster_stats s
    full join (
      select g.receiver_id, p.period, app_public.period_start(p.period, g.created_at) as period_start,
             sum(g.coins) as coins, sum(g.coins - g.fee_coins) as earned, sum(g.quantity) as gifts
        from settled g cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
       group by 1, 2, 3) l
      on l.receiver_id = s.broadcaster_id and l.period = s.period and l.period_start = s.period_start
   where (coalesce(s.coins, 0), coalesce(s.earned_coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.earned, 0), coalesce(l.gifts, 0))
  union all
  select 'gifter_stats = ledger', format('%s %s %s: stats %s/%s, ledger %s/%s', coalesce(s.gifter_id, l.sender_id),
         coalesce(s.period, l.period), coalesce(s.period_start, l.period_start), s.coins, s.gifts, l.coins, l.gifts)
    from app_public.gifter_stats s
    full join (
      select g.sender_id, p.period, app_public.period_start(p.period, g.created_at) as period_start,
             sum(g.coins) as coins, sum(g.quantity) as gifts
        from settled g cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
       group by 1, 2, 3) l
      on l.sender_id = s.gifter_id and l.period = s.period and l.period_start = s.period_start
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
  union all
  select 'stream_gifter_stats = ledger', format('stream %s gifter %s: stats %s, ledger %s', coalesce(s.stream_id, l.stream_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.stream_gifter_stats s
    full join (select g.stream_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts from settled g group by 1, 2) l
      on l.stream_id = s.stream_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
  union all
  select 'broadcaster_gifter_stats = ledger', format('broadcaster %s gifter %s: stats %s, ledger %s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.broadcaster_gifter_stats s
    full join (select g.receiver_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts from settled g group by 1, 2) l
      on l.receiver_id = s.broadcaster_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
$$;

--
-- Name: FUNCTION gift_audit(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.gift_audit() IS 'Invariants of the gift economy; each row returned is a violation (zero rows = healthy). Full scans: run it in tests and audits, not per request.';

--
-- Name: gift_ledger; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.gift_ledger (
    id bigint NOT NULL,
    sender_id uuid NOT NULL,
    receiver_id uuid NOT NULL,
    stream_id uuid NOT NULL,
    gift_id uuid NOT NULL,
    quantity integer NOT NULL,
    unit_price integer NOT NULL,
    coins bigint NOT NULL,
    fee_coins bigint NOT NULL,
    idempotency_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT gift_ledger_check CHECK (((fee_coins >= 0) AND (fee_coins <= coins))),
    CONSTRAINT gift_ledger_check1 CHECK ((coins = ((unit_price)::bigint * quantity))),
    CONSTRAINT gift_ledger_check4 CHECK ((sender_id <> receiver_id)),
    CONSTRAINT gift_ledger_coins_check CHECK ((coins > 0)),
    CONSTRAINT gift_ledger_idempotency_key_check CHECK (((char_length(idempotency_key) >= 1) AND (char_length(idempotency_key) <= 200))),
    CONSTRAINT gift_ledger_quantity_check CHECK (((quantity >= 1) AND (quantity <= 1000))),
    CONSTRAINT gift_ledger_unit_price_check CHECK ((unit_price > 0))
);

--
-- Name: TABLE gift_ledger; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.gift_ledger IS 'Every accepted gift, appended by send_gift (it is also the journal entry of the hold: sender -> escrow). Never edited: its settlement is recorded in gift_batch_items, its status is gift_ledger_status.';

--
-- Name: COLUMN gift_ledger.fee_coins; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.gift_ledger.fee_coins IS 'Platform fee fixed when the gift was sent (gift_fee_bps at that time, rounded down).';

--
-- Name: gift_receipt_for(app_private.gift_ledger, uuid, uuid, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) RETURNS app_public.gift_receipt
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if (g.stream_id, g.gift_id, g.quantity) is distinct from (gift_receipt_for.stream_id, gift_receipt_for.gift_id, gift_receipt_for.quantity) then
    raise exception 'idempotency key "%" was already used for another gift (ledger entry %)', g.idempotency_key, g.id
      using errcode = 'IDEMP';
  end if;
  return row(g.id, g.stream_id, g.gift_id, g.quantity, g.coins, (app_private.gift_status(g.id)).status,
             (select w.balance from app_private.wallets w where w.user_id = g.sender_id), true, g.created_at)::app_public.gift_receipt;
end;
$$;

--
-- Name: FUNCTION gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) IS 'Receipt for a replayed send_gift request; IDEMP when the key was used with other arguments.';

--
-- Name: gift_request_rows(jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.gift_request_rows(requests jsonb) RETURNS SETOF app_private.gift_request
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  return query
  -- send_gifts' requests, parsed (malformed ids and quantities become nulls, decided by send_gifts) and
  -- joined with what its rules read: sender, stream, gift, wallet, and the ledger row a key names.
  -- srank numbers the senders (sfirst: the sender's first request), kgroup names each (sender, key)
  -- group by its first request. The checks that depend on no other request are here, in send_gift's
  -- order: pre_code before the idempotency replay (sign-in, key length), check_code after it
  -- (quantity, sender, stream, gift), each with send_gift's message; send_gifts decides the rest (replays,
  -- funds) in request order. The quantity cap is the gift_max_quantity setting. plpgsql, not SQL: a SQL
  -- function that is not inlined is planned again on every call (2-3 ms per batch, most of a small
  -- batch's time); plpgsql keeps the plan for the session.
  select c.*,
         case when c.sender_id is null then 'NOAUT'
              when c.idem_key is not null and char_length(c.idem_key) not between 1 and 200 then 'BADIN' end,
         case when c.sender_id is null then 'sign in to send gifts'
              when c.idem_key is not null and char_length(c.idem_key) not between 1 and 200 then 'idempotency key must be 1-200 characters' end,
         case when c.qty is null or c.qty not between 1 and coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000) then 'BADIN'
              when c.u_id is null then 'NOAUT'
              when c.is_banned then 'BANND'
              when c.s_id is null then 'NOFND'
              when c.s_status <> 'live' then 'NLIVE'
              when c.broadcaster_id = c.sender_id then 'DENYD'
              when c.g_id is null then 'NOFND'
              when not c.active then 'BADIN' end,
         case when c.qty is null or c.qty not between 1 and coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000)
              then format('quantity must be between 1 and %s, got %s', coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000), coalesce(c.qty_raw, '<NULL>'))
              when c.u_id is null then format('user %s no longer exists', c.sender_id)
              when c.is_banned then format('user %s is banned', c.username)
              when c.s_id is null then format('stream %s not found', coalesce(c.stream_raw, '<NULL>'))
              when c.s_status <> 'live' then format('stream %s is not live', c.s_id)
              when c.broadcaster_id = c.sender_id then format('user %s cannot send gifts to their own stream %s', c.username, c.s_id)
              when c.g_id is null then format('gift %s not found', coalesce(c.gift_raw, '<NULL>'))
              when not c.active then format('gift "%s" is no longer available', c.g_name) end
  from (
  select q.ord, q.sender_id, q.stream_raw, q.stream_uuid, q.gift_raw, q.gift_uuid, q.qty_raw,
         case when q.qty_raw ~ '^-?[0-9]{1,9}$' then q.qty_raw::integer end as qty,
         q.idem_key, u.id as u_id, u.username, u.display_name, u.avatar_url, u.is_banned,
         s.id as s_id, s.status as s_status, s.broadcaster_id, g.id as g_id, g.slug, g.name as g_name, g.art_url, g.coin_price, g.active,
         w.balance as w_balance, l.id as l_id, l.stream_id as l_stream, l.gift_id as l_gift, l.quantity as l_qty, l.coins as l_coins,
         l.created_at as l_created,
         dense_rank() over (order by q.sender_id) as srank,
         (first_value(q.ord) over (partition by q.sender_id, q.idem_key order by q.ord))::integer as kgroup,
         row_number() over (partition by q.sender_id order by q.ord) = 1 as sfirst
    from (
      select e.ord::integer as ord,
             case when e.r ->> 'sender_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'sender_id')::uuid end as sender_id,
             e.r ->> 'stream_id' as stream_raw,
             case when e.r ->> 'stream_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'stream_id')::uuid end as stream_uuid,
             e.r ->> 'gift_id' as gift_raw,
             case when e.r ->> 'gift_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'gift_id')::uuid end as gift_uuid,
             case when jsonb_typeof(e.r) = 'object' and not e.r ? 'quantity' then '1' else e.r ->> 'quantity' end as qty_raw,
             e.r ->> 'idempotency_key' as idem_key
        from jsonb_array_elements(requests) with ordinality e(r, ord)
      offset 0
    ) q
    left join app_public.users u on u.id = q.sender_id
    left join app_public.streams s on s.id = q.stream_uuid
    left join app_public.gifts g on g.id = q.gift_uuid
    left join app_private.wallets w on w.user_id = q.sender_id
    -- The key lookup is a lateral index probe (limit 1 keeps the planner from flattening it): the plan
    -- is kept for the session, and one made while the ledger was small scanned all of it, growing, for
    -- every batch (6.5 ms per batch of 63 after a few seconds of load, against 2.3 ms).
    -- (the not-null test lets the planner use the partial unique index on (sender_id, idempotency_key))
    left join lateral (select l.* from app_private.gift_ledger l
                        where l.sender_id = q.sender_id and l.idempotency_key = q.idem_key and l.idempotency_key is not null
                        limit 1) l on true
  ) c;
end;
$_$;

--
-- Name: FUNCTION gift_request_rows(requests jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.gift_request_rows(requests jsonb) IS 'send_gifts'' requests parsed and joined with the rows its rules read (one definition for both of its queries).';

--
-- Name: gift_setting(text, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.gift_setting(key text, fallback integer) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_value integer;
begin
  select s.value::integer into v_value from app_private.settings s where s.key = gift_setting.key;
  return coalesce(v_value, fallback);
end;
$$;

--
-- Name: FUNCTION gift_setting(key text, fallback integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.gift_setting(key text, fallback integer) IS 'Integer gift setting from app_private.settings: gift_fee_bps (platform fee, basis points), gift_batch_size.';

--
-- Name: gift_status(bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) RETURNS record
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  if exists (select 1 from app_private.gift_settlement_queue q where q.gift_ledger_id = gift_status.gift_ledger_id) then
    status := 'pending';
    return;
  end if;
  select i.outcome, i.batch_id, l.started_at into status, batch_id, settled_at
    from app_private.gift_batch_items i join app_public.gift_batch_logs l on l.id = i.batch_id
   where i.gift_ids @> gift_status.gift_ledger_id;
end;
$$;

--
-- Name: FUNCTION gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) IS 'Status of one gift: pending while queued, else settled/failed with the batch (index lookup). Null status: no such gift.';

--
-- Name: hls_check_target(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.hls_check_target(stream_id uuid) RETURNS TABLE(pending text, url text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select p.pending, app_public.streams_hls_url(s)
    from app_private.stream_playback p
    join app_public.streams s on s.id = p.stream_id
   where p.stream_id = hls_check_target.stream_id and p.pending is not null
$$;

--
-- Name: FUNCTION hls_check_target(stream_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.hls_check_target(stream_id uuid) IS 'What the streams__check_hls job must check for the stream (no row: nothing pending).';

--
-- Name: issue_coins(uuid, bigint, text, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text DEFAULT NULL::text, note text DEFAULT NULL::text) RETURNS TABLE(coin_transaction_id bigint, duplicate boolean, balance bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  v_tx bigint;
  v_balance bigint;
begin
  if issue_coins.coins is null or issue_coins.coins not between 1 and 100000000 then
    raise exception 'coins to issue must be between 1 and 100000000, got %', issue_coins.coins using errcode = 'BADIN';
  end if;
  if not exists (select 1 from app_public.users u where u.id = issue_coins.user_id) then
    raise exception 'user % not found', issue_coins.user_id using errcode = 'NOFND';
  end if;
  insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, reference, note)
    values (issue_coins.kind, 'issuer', 'user', issue_coins.user_id, issue_coins.coins, issue_coins.reference, issue_coins.note)
    on conflict (kind, reference) where reference is not null do nothing
    returning id into v_tx;
  if v_tx is null then
    select t.id into v_tx from app_private.coin_transactions t where t.kind = issue_coins.kind and t.reference = issue_coins.reference;
    select w.balance into v_balance from app_private.wallets w where w.user_id = issue_coins.user_id;
    return query select v_tx, true, coalesce(v_balance, 0::bigint);
    return;
  end if;
  insert into app_private.wallets as w (user_id, balance) values (issue_coins.user_id, issue_coins.coins)
    on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now()
    returning w.balance into v_balance;
  return query select v_tx, false, v_balance;
end;
$$;

--
-- Name: FUNCTION issue_coins(user_id uuid, coins bigint, kind text, reference text, note text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) IS 'Credits new coins (issuer -> user). Idempotent per (kind, reference): a repeat returns the first transaction with duplicate = true.';

--
-- Name: livekit_grant_for(uuid, uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.livekit_grant_for(stream_id uuid, user_id uuid) RETURNS app_public.livekit_grant
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
  v_seat_expires timestamptz;
  v_on_seat boolean := false;
  v_publish boolean;
  v_ttl integer;
  v_addr text;
  v_tokens real;
  v_wait numeric;
  -- Signed-out viewers: a bucket of 20 tokens per client address, refilled at one every 5 s.
  c_anon_burst constant real := 20;
  c_anon_rate constant real := 0.2;
begin
  if user_id is not null then
    select * into v_user from app_public.users u where u.id = livekit_grant_for.user_id;
    if v_user.id is null then
      raise exception 'user % not found: sign in again', user_id using errcode = 'NOAUT';
    end if;
    if v_user.is_banned then
      raise exception 'user % is banned', v_user.username using errcode = 'BANND';
    end if;
  end if;
  select * into v_stream from app_public.streams s where s.id = livekit_grant_for.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if user_id is null then
    -- Signed out: watch only (no publish, no data), a throwaway identity, a short token. A request
    -- (role anon) is rate limited per client address (request.client_addr, set by the server; callers
    -- that do not say share one bucket); the server's own checks (webhooks) are not.
    v_addr := nullif(current_setting('request.client_addr', true), '');
    if v_addr is not null or current_setting('role', true) = 'anon' then
      v_addr := coalesce(v_addr, 'unknown');
      insert into app_private.livekit_anon_buckets as b (client_addr, tokens, refilled_at) values (v_addr, c_anon_burst - 1, now())
      on conflict (client_addr) do update
        set tokens = least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) - 1,
            refilled_at = now()
        where least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) >= 1;
      if not found then
        select least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) into v_tokens
          from app_private.livekit_anon_buckets b where b.client_addr = v_addr;
        v_wait := round(greatest(ceil(((1 - v_tokens) / c_anon_rate * 10)::numeric), 1) / 10, 1);
        raise exception 'too many stage tokens for signed-out viewers from this address: retry after % seconds', v_wait
          using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
      end if;
    end if;
    return row(v_stream.id::text, 'anon-' || left(replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20),
               false, true, false, false, 300)::app_public.livekit_grant;
  end if;
  select true, s.expires_at into v_on_seat, v_seat_expires
    from app_public.stream_seats s
   where s.stream_id = v_stream.id and s.user_id = v_user.id and s.status = 'active'
     and (s.expires_at is null or s.expires_at > now());
  v_publish := v_user.id = v_stream.broadcaster_id or coalesce(v_on_seat, false);
  v_ttl := case
    when not v_publish then 3600
    when v_user.id = v_stream.broadcaster_id or v_seat_expires is null then 300
    else greatest(1, least(300, ceil(extract(epoch from v_seat_expires - now()))::integer))
  end;
  return row(v_stream.id::text, v_user.id::text, v_publish, true, v_publish, v_user.role = 'admin', v_ttl)::app_public.livekit_grant;
end;
$$;

--
-- Name: FUNCTION livekit_grant_for(stream_id uuid, user_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.livekit_grant_for(stream_id uuid, user_id uuid) IS 'The LiveKit grant of a user in a stream''s room (server side: token minting, webhooks, enforcement). A null user is a signed-out viewer: subscribe only, identity anon-<random>, 5-minute token, 20 per client address then one every 5 s (RATEL). Errors: NOAUT, BANND, NOFND, NLIVE, RATEL.';

--
-- Name: livekit_room_spec(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.livekit_room_spec(stream_id uuid) RETURNS TABLE(room text, live boolean, empty_timeout integer, departure_timeout integer, max_participants integer)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The stage's room: named after the stream. It stays open 5 minutes without anyone in it (the
  -- broadcaster reconnecting), 20 s after the last one leaves; it admits the stage plus the viewers up
  -- to the viral threshold (past it, viewers move to HLS) with some headroom.
  select s.id::text, s.status = 'live', 300, 20,
         coalesce(cfg.viral_enter_viewers, 1000) + s.seat_cap + 1 + 100
    from app_public.streams s
    left join app_private.playback_settings cfg on true
   where s.id = livekit_room_spec.stream_id
$$;

--
-- Name: FUNCTION livekit_room_spec(stream_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.livekit_room_spec(stream_id uuid) IS 'What the streams__livekit_room job makes LiveKit hold for a stream: an open room with these limits while it is live, none after.';

--
-- Name: log_moderation(uuid, text, uuid, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason, details)
  values (stream_id, app_public.current_user_id(), action, target_user_id, reason, coalesce(details, '{}'));
$$;

--
-- Name: FUNCTION log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) IS 'Appends to the moderation log as the current user.';

--
-- Name: login_account_key(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.login_account_key(username_or_email text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- The account a sign-in names: its user id when it exists (so the username and the e-mail address
  -- share one throttle), else a digest of the identifier (unknown accounts are throttled exactly like
  -- known ones, so throttling does not tell which exist).
  select coalesce(
    (select u.id::text from app_public.users u where lower(u.username) = lower(username_or_email)
      union all
     select s.user_id::text from app_private.user_secrets s where lower(s.email) = lower(username_or_email)
     limit 1),
    'unknown:' || md5(lower(coalesce(username_or_email, ''))))
$$;

--
-- Name: FUNCTION login_account_key(username_or_email text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.login_account_key(username_or_email text) IS 'The throttle key of a sign-in: the user id, or a digest of an unknown identifier.';

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
    seat_cap smallint DEFAULT 4 NOT NULL,
    chat_slow_mode_seconds integer DEFAULT 0 NOT NULL,
    category text,
    thumbnail_url text,
    CONSTRAINT streams_category_check CHECK (((category IS NULL) OR app_hidden.stream_category_valid(category))),
    CONSTRAINT streams_chat_slow_mode_seconds_check CHECK (((chat_slow_mode_seconds >= 0) AND (chat_slow_mode_seconds <= 3600))),
    CONSTRAINT streams_check CHECK (((status = 'ended'::text) = (ended_at IS NOT NULL))),
    CONSTRAINT streams_seat_cap_check CHECK (((seat_cap >= 0) AND (seat_cap <= 12))),
    CONSTRAINT streams_status_check CHECK ((status = ANY (ARRAY['live'::text, 'ended'::text]))),
    CONSTRAINT streams_thumbnail_url_check CHECK (((thumbnail_url IS NULL) OR app_hidden.stream_thumbnail_url_valid(thumbnail_url))),
    CONSTRAINT streams_title_check CHECK (((char_length(title) >= 1) AND (char_length(title) <= 140))),
    CONSTRAINT streams_title_clean CHECK (app_hidden.is_clean_line(title))
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
-- Name: COLUMN streams.seat_cap; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.seat_cap IS 'How many guest seats the stage has (0-12); the broadcaster is not counted.';

--
-- Name: COLUMN streams.chat_slow_mode_seconds; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.chat_slow_mode_seconds IS 'Slow mode: minimum seconds between two messages of one viewer (0 = off). Set with setSlowMode.';

--
-- Name: COLUMN streams.category; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.category IS 'What the stream is about: one of stream_categories() (just_chatting, music, ...), or null. Set with setStreamDetails.';

--
-- Name: COLUMN streams.thumbnail_url; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.streams.thumbnail_url IS 'The picture shown for the stream in lists: an https:// URL or a path on this site, or null. Set with setStreamDetails.';

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
    vehicle_status text,
    CONSTRAINT users_avatar_url_check CHECK (((avatar_url ~ '^https?://[!-~]+$'::text) AND (char_length(avatar_url) <= 2000))),
    CONSTRAINT users_display_name_check CHECK (((char_length(display_name) >= 1) AND (char_length(display_name) <= 64))),
    CONSTRAINT users_display_name_clean CHECK (app_hidden.is_clean_line(display_name)),
    CONSTRAINT users_username_check CHECK ((username ~ '^[A-Za-z][A-Za-z0-9_]{2,23}$'::text)),
    CONSTRAINT users_vehicle_status_check CHECK (((vehicle_status IS NULL) OR (((char_length(vehicle_status) >= 1) AND (char_length(vehicle_status) <= 40)) AND (vehicle_status !~ '[[:cntrl:]]'::text)))),
    CONSTRAINT users_vehicle_status_clean CHECK (app_hidden.is_clean_line(vehicle_status))
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
-- Name: COLUMN users.vehicle_status; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.users.vehicle_status IS 'Cosmetic badge: the ride the user currently shows next to their name (1-40 characters), or null.';

--
-- Name: manages_stage(app_public.streams, app_public.users); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.manages_stage(stream app_public.streams, actor app_public.users) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select actor.id = stream.broadcaster_id or actor.role in ('moderator', 'admin')
$$;

--
-- Name: FUNCTION manages_stage(stream app_public.streams, actor app_public.users); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.manages_stage(stream app_public.streams, actor app_public.users) IS 'Invites and revokes seats: the stream''s broadcaster, moderators and admins.';

--
-- Name: moderation_target(uuid, uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.moderation_target(stream_id uuid, user_id uuid) RETURNS app_public.streams
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_stream app_public.streams;
  v_actor app_public.app_role;
  v_target app_public.app_role;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = moderation_target.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  select u.role into v_actor from app_public.users u where u.id = app_public.current_user_id();
  if v_stream.broadcaster_id <> app_public.current_user_id() and v_actor not in ('moderator', 'admin') then
    raise exception 'only the broadcaster or a moderator may moderate stream %', stream_id using errcode = 'DENYD';
  end if;
  select u.role into v_target from app_public.users u where u.id = moderation_target.user_id;
  if v_target is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if user_id = app_public.current_user_id() then
    raise exception 'you cannot moderate yourself' using errcode = 'BADIN';
  end if;
  if user_id = v_stream.broadcaster_id then
    raise exception 'the broadcaster of stream % cannot be muted or banned in it', stream_id using errcode = 'DENYD';
  end if;
  if v_target in ('moderator', 'admin') and v_actor is distinct from 'admin' then
    raise exception 'only an admin may mute or ban moderator %', user_id using errcode = 'DENYD';
  end if;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION moderation_target(stream_id uuid, user_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.moderation_target(stream_id uuid, user_id uuid) IS 'Shared checks for mute/ban: NOAUT, NOFND, DENYD, BADIN.';

--
-- Name: next_stream_event_batches(integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.next_stream_event_batches(max_events integer DEFAULT 10000, max_payload integer DEFAULT 7900) RETURNS TABLE(stream_id uuid, payload text, events integer)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  r record;
  v_base bigint;
  v_n int;
  v_head text;
  v_buf text := '';
  v_buf_len int := 0;
  v_count int := 0;
  v_event text;
  v_event_len int;
begin
  if max_payload is null or max_payload < 200 or max_payload > 7999 then
    raise exception 'max_payload must be 200-7999 bytes (NOTIFY payloads must stay below 8000)' using errcode = 'BADIN';
  end if;
  select count(*) into v_n from (
    select 1 from app_private.stream_events e where e.seq is null limit max_events
  ) p;
  if v_n = 0 then
    return;
  end if;
  -- Reserve v_n delivery numbers (only the relay uses this sequence, under its lock).
  v_base := nextval('app_private.stream_event_seq');
  if v_n > 1 then
    perform setval('app_private.stream_event_seq', v_base + v_n - 1);
  end if;
  with picked as (
    select e.id, v_base + row_number() over (order by e.id) - 1 as seq
      from app_private.stream_events e
     where e.seq is null
     order by e.id
     limit v_n
  )
  update app_private.stream_events e set seq = p.seq from picked p where e.id = p.id;

  for r in
    select e.stream_id, e.seq, e.kind, e.created_at, e.payload
      from app_private.stream_events e
     where e.seq between v_base and v_base + v_n - 1
     order by e.stream_id, e.seq
  loop
    if stream_id is distinct from r.stream_id then
      if v_buf_len > 0 then
        payload := v_head || v_buf || ']}';
        events := v_count;
        return next;
      end if;
      stream_id := r.stream_id;
      v_head := '{"stream_id":"' || r.stream_id || '","events":[';
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'payload', r.payload)::text;
    v_event_len := octet_length(v_event);
    if octet_length(v_head) + v_event_len + 2 > max_payload then
      -- Too big for any NOTIFY: deliver a stub; clients fetch the event with streamEventsSince.
      v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'truncated', true)::text;
      v_event_len := octet_length(v_event);
    end if;
    if v_buf_len > 0 and octet_length(v_head) + v_buf_len + 1 + v_event_len + 2 > max_payload then
      payload := v_head || v_buf || ']}';
      events := v_count;
      return next;
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    if v_buf_len > 0 then
      v_buf := v_buf || ',';
      v_buf_len := v_buf_len + 1;
    end if;
    v_buf := v_buf || v_event;
    v_buf_len := v_buf_len + v_event_len;
    v_count := v_count + 1;
  end loop;
  if v_buf_len > 0 then
    payload := v_head || v_buf || ']}';
    events := v_count;
    return next;
  end if;
end;
$$;

--
-- Name: FUNCTION next_stream_event_batches(max_events integer, max_payload integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.next_stream_event_batches(max_events integer, max_payload integer) IS 'Numbers up to max_events pending outbox events in delivery order (seq) and returns them as per-stream JSON batches {"stream_id", "events": [{id, kind, at, payload}]} of at most max_payload bytes each.';

--
-- Name: playback_metrics(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.playback_metrics() RETURNS TABLE(streams_hls integer, streams_check_failing integer, checks_failed integer, failure_reports integer)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select (select count(*) from app_private.stream_playback where mode = 'hls')::integer,
         (select count(*) from app_private.stream_playback where last_check_ok = false)::integer,
         (select count(*) from app_private.hls_checks where not ok)::integer,
         (select count(*) from app_private.playback_failure_reports)::integer
$$;

--
-- Name: FUNCTION playback_metrics(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.playback_metrics() IS 'Figures for /metrics (trollcity_playback_*).';

--
-- Name: playback_viewer_count(app_public.streams); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.playback_viewer_count(s app_public.streams) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  v_count integer;
begin
  if to_regprocedure('app_public.streams_viewer_count(app_public.streams)') is null then
    return null;
  end if;
  execute 'select app_public.streams_viewer_count($1)' using s into v_count;
  return v_count;
end;
$_$;

--
-- Name: FUNCTION playback_viewer_count(s app_public.streams); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.playback_viewer_count(s app_public.streams) IS 'The viewer count from app_public.streams_viewer_count when the realtime feature provides it, else null.';

--
-- Name: gift_batch_logs; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.gift_batch_logs (
    id bigint NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    max_rows integer NOT NULL,
    processed integer NOT NULL,
    settled integer NOT NULL,
    failed integer NOT NULL,
    coins_settled bigint NOT NULL,
    fees bigint NOT NULL,
    streams integer NOT NULL,
    backlog_count bigint NOT NULL,
    duration_ms numeric(12,3) NOT NULL,
    oldest_settled_lag_ms numeric(14,3),
    oldest_pending_lag_ms numeric(14,3),
    CONSTRAINT gift_batch_logs_check CHECK ((processed = (settled + failed)))
);

ALTER TABLE ONLY app_public.gift_batch_logs FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE gift_batch_logs; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.gift_batch_logs IS 'One row per settlement batch (also when there was nothing to settle: proof that the schedule runs). Admins only.';

--
-- Name: COLUMN gift_batch_logs.processed; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gift_batch_logs.processed IS 'Gifts taken from the queue in this batch (settled + failed).';

--
-- Name: COLUMN gift_batch_logs.failed; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gift_batch_logs.failed IS 'Gifts refunded to the sender because the receiver could not be credited (banned).';

--
-- Name: COLUMN gift_batch_logs.backlog_count; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gift_batch_logs.backlog_count IS 'Gifts still pending when the batch finished.';

--
-- Name: COLUMN gift_batch_logs.oldest_settled_lag_ms; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gift_batch_logs.oldest_settled_lag_ms IS 'Age of the oldest gift settled by this batch (sent -> settled).';

--
-- Name: COLUMN gift_batch_logs.oldest_pending_lag_ms; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gift_batch_logs.oldest_pending_lag_ms IS 'Age of the oldest gift still pending when the batch finished.';

--
-- Name: process_gift_ledger_batch(integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.process_gift_ledger_batch(max_rows integer DEFAULT NULL::integer) RETURNS app_public.gift_batch_logs
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
declare
  v_max integer := coalesce(max_rows, app_private.gift_setting('gift_batch_size', 10000));
  v_started timestamptz := clock_timestamp();
  v_batch_id bigint := nextval(pg_get_serial_sequence('app_public.gift_batch_logs', 'id'));
  v_log app_public.gift_batch_logs;
  v_settled_ids int8multirange;
  v_failed_ids int8multirange;
  v_oldest_pending timestamptz;
begin
  if v_max is null or v_max not between 1 and 1000000 then
    raise exception 'max_rows must be between 1 and 1000000, got %', v_max using errcode = 'BADIN';
  end if;
  -- Scratch space: this batch's gifts summed per (receiver, sender, stream, UTC day, outcome), a few
  -- hundred rows however large the batch. Kept for the session (plans stay cached), emptied at
  -- commit and at the start of each batch (a test may run two batches in one transaction).
  create temp table if not exists gift_batch_sums (
    receiver_id uuid, sender_id uuid, stream_id uuid, day timestamptz, settled boolean,
    gifts bigint, coins bigint, fee_coins bigint, quantity bigint, oldest timestamptz
  ) on commit delete rows;
  perform 'PRAGMA:TABLE: gift_batch_sums (receiver_id uuid, sender_id uuid, stream_id uuid, day timestamptz, settled boolean, gifts bigint, coins bigint, fee_coins bigint, quantity bigint, oldest timestamptz)';  -- for plpgsql_check
  delete from pg_temp.gift_batch_sums;

  -- 1. Take queued gifts in arrival order (rows other batches hold are skipped), delete them from the
  --    queue, sum them, and keep their ids as ranges. Gifts to banned receivers fail (refunded below).
  --    The only per-gift work in the whole batch happens in this one statement.
  with picked as (
    select q.ctid as row_id from app_private.gift_settlement_queue q
     order by q.gift_ledger_id
     limit v_max
     for update skip locked
  ), taken as (
    delete from app_private.gift_settlement_queue q
     where q.ctid = any (array(select p.row_id from picked p))
    returning q.*
  ), banned as (
    select u.id from app_public.users u
     where u.is_banned and u.id in (select distinct t.receiver_id from taken t)
  ), judged as (
    select t.*, t.receiver_id not in (select b.id from banned b) as settled from taken t
  ), sums as (
    insert into pg_temp.gift_batch_sums
    select j.receiver_id, j.sender_id, j.stream_id, app_public.period_start('day', j.created_at),
           j.settled, count(*), sum(j.coins), sum(j.fee_coins), sum(j.quantity), min(j.created_at)
      from judged j
     group by 1, 2, 3, 4, 5
  )
  select range_agg(int8range(j.gift_ledger_id, j.gift_ledger_id, '[]')) filter (where j.settled),
         range_agg(int8range(j.gift_ledger_id, j.gift_ledger_id, '[]')) filter (where not j.settled)
    into v_settled_ids, v_failed_ids
    from judged j;

  -- 2. Wallet credits: one per user per batch, in user id order (receivers' net coins, refunds to senders).
  insert into app_private.wallets as w (user_id, balance)
  select c.user_id, sum(c.amount)
    from (select b.receiver_id as user_id, b.coins - b.fee_coins as amount from pg_temp.gift_batch_sums b where b.settled
          union all
          select b.sender_id, b.coins from pg_temp.gift_batch_sums b where not b.settled) c
   group by c.user_id
  having sum(c.amount) > 0
   order by c.user_id
  on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now();

  -- 3. The journal: escrow -> receiver (net), escrow -> platform (fees), escrow -> sender (refunds).
  insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, batch_id)
  select 'gift_settlement', 'escrow', 'user', b.receiver_id, sum(b.coins - b.fee_coins), v_batch_id
    from pg_temp.gift_batch_sums b where b.settled
   group by b.receiver_id having sum(b.coins - b.fee_coins) > 0
  union all
  select 'gift_fee', 'escrow', 'platform', null, sum(b.fee_coins), v_batch_id
    from pg_temp.gift_batch_sums b where b.settled having sum(b.fee_coins) > 0
  union all
  select 'gift_refund', 'escrow', 'user', b.sender_id, sum(b.coins), v_batch_id
    from pg_temp.gift_batch_sums b where not b.settled
   group by b.sender_id;

  -- 4. Materialised stats, each in key order. Buckets by the time the gift was sent (UTC): every
  --    period's bucket of a gift is the bucket of its day (period_start() is inlined by the planner).
  insert into app_public.broadcaster_stats as s (broadcaster_id, period, period_start, coins, earned_coins, gifts)
  select b.receiver_id, p.period, app_public.period_start(p.period, b.day), sum(b.coins), sum(b.coins - b.fee_coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b
   cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
   where b.settled
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, broadcaster_id) do update
     set coins = s.coins + excluded.coins, earned_coins = s.earned_coins + excluded.earned_coins,
         gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.gifter_stats as s (gifter_id, period, period_start, coins, gifts)
  select b.sender_id, p.period, app_public.period_start(p.period, b.day), sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b
   cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
   where b.settled
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.stream_gifter_stats as s (stream_id, gifter_id, coins, gifts)
  select b.stream_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b where b.settled
   group by 1, 2 order by 1, 2
  on conflict (stream_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.broadcaster_gifter_stats as s (broadcaster_id, gifter_id, coins, gifts)
  select b.receiver_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b where b.settled
   group by 1, 2 order by 1, 2
  on conflict (broadcaster_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  -- 5. One leaderboard event per affected stream (through the outbox; never NOTIFY here).
  perform app_private.publish_stream_event(a.stream_id, 'leaderboard',
                                           app_private.stream_leaderboard_event(a.stream_id, a.receiver_id, v_batch_id))
     from (select distinct b.stream_id, b.receiver_id from pg_temp.gift_batch_sums b where b.settled) a;

  -- 6. The batch log, then which gifts it took (as id ranges).
  select q.created_at into v_oldest_pending from app_private.gift_settlement_queue q order by q.gift_ledger_id limit 1;
  insert into app_public.gift_batch_logs (id, started_at, finished_at, max_rows, processed, settled, failed, coins_settled, fees,
                                          streams, backlog_count, duration_ms, oldest_settled_lag_ms, oldest_pending_lag_ms)
  select v_batch_id, v_started, clock_timestamp(), v_max,
         coalesce(sum(b.gifts), 0), coalesce(sum(b.gifts) filter (where b.settled), 0), coalesce(sum(b.gifts) filter (where not b.settled), 0),
         coalesce(sum(b.coins) filter (where b.settled), 0),
         coalesce(sum(b.fee_coins) filter (where b.settled), 0),
         count(distinct b.stream_id) filter (where b.settled),
         (select count(*) from app_private.gift_settlement_queue),
         extract(epoch from clock_timestamp() - v_started) * 1000,
         extract(epoch from v_started - min(b.oldest)) * 1000,
         extract(epoch from clock_timestamp() - v_oldest_pending) * 1000
    from pg_temp.gift_batch_sums b
  returning * into v_log;
  insert into app_private.gift_batch_items (batch_id, outcome, gift_ids)
  select v_batch_id, o.outcome, o.ids
    from (values ('settled', v_settled_ids), ('failed', v_failed_ids)) o(outcome, ids)
   where o.ids is not null;
  return v_log;
end;
$$;

--
-- Name: FUNCTION process_gift_ledger_batch(max_rows integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.process_gift_ledger_batch(max_rows integer) IS 'Settles up to max_rows pending gifts (default: setting gift_batch_size) in one transaction: FOR UPDATE SKIP LOCKED, one credit per receiver, fees, stats, one leaderboard event per stream, one gift_batch_logs row. Safe to run concurrently and after a crash (an uncommitted batch leaves its gifts pending).';

--
-- Name: prune_stream_events(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.prune_stream_events() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_secs int;
  v_n int;
begin
  update app_private.relay_state set pruned_at = now() where pruned_at <= now() - interval '5 seconds';
  if not found then
    -- relay_state is UNLOGGED: crash recovery empties it, and then its row comes back here. (Not one
    -- upsert: ON CONFLICT DO UPDATE locks the row, and so takes a transaction id, on every relay tick.)
    if not app_private.restore_relay_state() then
      return 0;
    end if;
    update app_private.relay_state set pruned_at = now();
  end if;
  select coalesce(max(value)::int, 120) into v_secs from app_private.settings where key = 'stream_events_retention_seconds';
  delete from app_private.stream_events e where e.created_at < now() - make_interval(secs => v_secs);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;

--
-- Name: FUNCTION prune_stream_events(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.prune_stream_events() IS 'Deletes outbox events older than the stream_events_retention_seconds setting (default 120; the catch-up window); at most every 5 s.';

--
-- Name: publish_stream_event(uuid, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  insert into app_private.stream_events (stream_id, kind, payload)
    values (publish_stream_event.stream_id, publish_stream_event.kind, publish_stream_event.payload);
end;
$$;

--
-- Name: FUNCTION publish_stream_event(stream_id uuid, kind text, payload jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) IS 'Append an event to the outbox. Never NOTIFY from a hot write: the relay does that, once per stream per tick.';

--
-- Name: publish_viewer_counts(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.publish_viewer_counts() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_n int;
begin
  update app_private.relay_state set counts_at = now() where counts_at <= now() - interval '1 second';
  if not found then
    -- relay_state is UNLOGGED: crash recovery empties it, and then its row comes back here. (Not one
    -- upsert: ON CONFLICT DO UPDATE locks the row, and so takes a transaction id, on every relay tick.)
    if not app_private.restore_relay_state() then
      return 0;
    end if;
    update app_private.relay_state set counts_at = now();
  end if;
  delete from app_private.presence_counts p where p.updated_at < now() - interval '30 seconds';
  with live as (
    select p.stream_id, sum(p.viewers)::int as viewers
      from app_private.presence_counts p
     where p.updated_at > now() - interval '15 seconds'
     group by p.stream_id
  ), changed as (
    select coalesce(l.stream_id, v.stream_id) as stream_id, coalesce(l.viewers, 0) as viewers
      from live l
      full join app_private.stream_viewer_counts v on v.stream_id = l.stream_id
     where coalesce(l.viewers, 0) is distinct from v.viewers
  ), saved as (
    insert into app_private.stream_viewer_counts as v (stream_id, viewers, published_at)
    select c.stream_id, c.viewers, now() from changed c
    on conflict (stream_id) do update set viewers = excluded.viewers, published_at = excluded.published_at
    returning v.stream_id, v.viewers
  )
  insert into app_private.stream_events (stream_id, kind, payload)
  select s.stream_id, 'viewer_count', jsonb_build_object('viewers', s.viewers) from saved s;
  get diagnostics v_n = row_count;
  delete from app_private.stream_viewer_counts v where v.viewers = 0 and v.published_at < now() - interval '1 minute';
  return v_n;
end;
$$;

--
-- Name: FUNCTION publish_viewer_counts(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.publish_viewer_counts() IS 'Turns fresh presence counts into viewer_count events for streams whose count changed; at most once per second.';

--
-- Name: purchase_coins(text, text, uuid, integer, integer, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer DEFAULT NULL::integer, currency text DEFAULT NULL::text, payload jsonb DEFAULT '{}'::jsonb) RETURNS TABLE(coin_transaction_id bigint, duplicate boolean, balance bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
#variable_conflict use_column
declare
  v_issued record;
begin
  if provider is null or provider !~ '^[a-z][a-z0-9_-]{1,30}$' then
    raise exception 'payment provider name "%" is invalid', provider using errcode = 'BADIN';
  end if;
  if provider_event_id is null or char_length(provider_event_id) not between 1 and 200 then
    raise exception 'payment event id must be 1-200 characters' using errcode = 'BADIN';
  end if;
  select * into v_issued
    from app_private.issue_coins(purchase_coins.user_id, purchase_coins.coins, 'purchase',
                                 purchase_coins.provider || ':' || purchase_coins.provider_event_id,
                                 'payment ' || purchase_coins.provider || ' ' || purchase_coins.provider_event_id);
  if not v_issued.duplicate then
    insert into app_private.payment_events (provider, event_id, user_id, coins, amount_cents, currency, payload, coin_transaction_id)
      values (purchase_coins.provider, purchase_coins.provider_event_id, purchase_coins.user_id, purchase_coins.coins,
              purchase_coins.amount_cents, purchase_coins.currency, coalesce(purchase_coins.payload, '{}'), v_issued.coin_transaction_id);
  end if;
  return query select v_issued.coin_transaction_id, v_issued.duplicate, v_issued.balance;
end;
$_$;

--
-- Name: FUNCTION purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) IS 'Credits purchased coins for a verified payment-provider event; idempotent on (provider, event id). Called by the webhook route only.';

--
-- Name: record_checkout_session(text, uuid, uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  insert into app_private.checkout_sessions (id, user_id, pack_id, coins, amount_cents, currency)
  select record_checkout_session.session_id, record_checkout_session.user_id, p.id, p.coins, p.price_cents, p.currency
    from app_public.coin_packs p where p.id = record_checkout_session.pack_id
  on conflict (id) do nothing;
$$;

--
-- Name: FUNCTION record_checkout_session(session_id text, user_id uuid, pack_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) IS 'Remembers an open Stripe Checkout Session with the pack''s coins and price as sold: fulfilment credits these, never what the webhook says.';

--
-- Name: record_egress(uuid, text, text, text, text, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_egress(id uuid, state text, egress_id text DEFAULT NULL::text, error text DEFAULT NULL::text, mux_live_stream_id text DEFAULT NULL::text, mux_playback_id text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_row app_private.stream_egresses;
  v_live boolean;
  v_wanted boolean;
  v_delay integer;
  -- Failures are retried with backoff (5 s doubling to 2 min), at most this many in a row.
  c_max_failures constant integer := 8;
  -- An active egress is looked at this often.
  c_watch_seconds constant integer := 5;
begin
  select * into v_row from app_private.stream_egresses e where e.id = record_egress.id for update;
  if v_row.id is null then
    return 'gone';
  end if;
  select s.status = 'live' into v_live from app_public.streams s where s.id = v_row.stream_id;
  -- Still wanted: the stream is live and on (or on its way to) HLS.
  select coalesce(v_live, false) and (p.mode = 'hls' or p.pending in ('to_hls', 'verify')) into v_wanted
    from app_private.stream_playback p where p.stream_id = v_row.stream_id;
  v_wanted := coalesce(v_wanted, false);

  if record_egress.mux_live_stream_id is not null then
    update app_private.stream_egresses e
       set mux_live_stream_id = record_egress.mux_live_stream_id, mux_playback_id = record_egress.mux_playback_id
     where e.id = v_row.id;
    if record_egress.mux_playback_id is not null then
      -- The stream's HLS URL is Mux's playback URL from now on (checked before anyone is switched).
      update app_private.stream_playback p
         set hls_provider = 'mux', mux_playback_id = record_egress.mux_playback_id, origin_path = null
       where p.stream_id = v_row.stream_id;
    end if;
  end if;

  if record_egress.state = 'starting' then
    if v_row.state in ('stopping', 'stopped') or not v_wanted then
      -- Asked to stop while it was being started: stop what was just started.
      update app_private.stream_egresses e
         set egress_id = record_egress.egress_id, state = 'stopping', ended_at = null,
             stop_reason = coalesce(e.stop_reason, 'no longer wanted')
       where e.id = v_row.id;
      return 'stop';
    end if;
    update app_private.stream_egresses e
       set egress_id = record_egress.egress_id, state = 'starting', started_at = now(), attempts = e.attempts + 1,
           next_attempt_at = null
     where e.id = v_row.id;
    return 'starting';
  elsif record_egress.state = 'active' then
    if v_row.state not in ('starting', 'active') then
      return v_row.state;
    end if;
    if v_row.state = 'starting' then
      update app_private.stream_egresses e
         set state = 'active', active_at = now(), last_error = null, consecutive_failures = 0
       where e.id = v_row.id;
      -- The health check was waiting for this: run it now.
      update app_private.stream_playback p set check_due_at = now()
       where p.stream_id = v_row.stream_id and p.pending = 'to_hls';
    end if;
    -- Watch it while it runs: an egress that dies later is restarted like a failed start.
    perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now() + make_interval(secs => c_watch_seconds),
      'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
    return 'active';
  elsif record_egress.state = 'stopped' then
    update app_private.stream_egresses e set state = 'stopped', ended_at = now(), next_attempt_at = null where e.id = v_row.id;
    return 'stopped';
  elsif record_egress.state = 'failed' then
    if v_row.state in ('stopping', 'stopped') then
      update app_private.stream_egresses e set state = 'stopped', ended_at = now(), last_error = left(record_egress.error, 500)
       where e.id = v_row.id;
      return 'stopped';
    end if;
    if v_wanted and v_row.consecutive_failures + 1 < c_max_failures then
      v_delay := least(120, 5 * (2 ^ v_row.consecutive_failures)::integer);
      update app_private.stream_egresses e
         set state = 'retrying', failures = e.failures + 1, consecutive_failures = e.consecutive_failures + 1, last_error = left(coalesce(record_egress.error, 'egress failed'), 500),
             last_failed_at = now(), egress_id = null, next_attempt_at = now() + make_interval(secs => v_delay)
       where e.id = v_row.id;
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now() + make_interval(secs => v_delay),
        'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
      return 'retrying';
    end if;
    update app_private.stream_egresses e
       set state = 'failed', failures = e.failures + 1, consecutive_failures = e.consecutive_failures + 1, last_error = left(coalesce(record_egress.error, 'egress failed'), 500),
           last_failed_at = now(), ended_at = now(), next_attempt_at = null
     where e.id = v_row.id;
    return 'failed';
  end if;
  raise exception 'egress state must be starting, active, stopped or failed (got "%")', state using errcode = 'BADIN';
end;
$$;

--
-- Name: FUNCTION record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) IS 'What the worker learnt about an egress (started, active, stopped, failed). Decides what follows: a failure (of a start, or of a running egress) is retried with backoff (5 s doubling to 2 min, 8 in a row at most), an active egress lets the waiting health check run and is watched every 5 s, a start that is no longer wanted is stopped.';

--
-- Name: record_hls_check(uuid, text, boolean, text, jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb DEFAULT '{}'::jsonb) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_state app_private.stream_playback;
  v_stream app_public.streams;
  v_cfg app_private.playback_settings;
  v_url text;
  v_delay integer;
begin
  select * into v_state from app_private.stream_playback p where p.stream_id = record_hls_check.stream_id for update;
  select * into v_stream from app_public.streams s where s.id = record_hls_check.stream_id;
  if v_state.stream_id is null or v_state.pending is null then
    return 'stale';
  end if;
  select * into v_cfg from app_private.playback_settings;
  v_url := app_public.streams_hls_url(v_stream);
  insert into app_private.hls_checks (stream_id, purpose, url, ok, error, detail)
    values (v_state.stream_id, v_state.pending, url, ok, error, coalesce(detail, '{}'));

  if v_state.pending = 'to_stage' then
    -- The stage is the broadcaster's own room: switching back needs no HLS check.
    update app_private.stream_playback p
       set mode = 'stage', mode_reason = v_state.pending_reason, switched_at = now(),
           pending = null, pending_reason = null, check_due_at = null, attempts = 0
     where p.stream_id = v_state.stream_id;
    perform app_private.publish_stream_event(v_state.stream_id, 'stream_state', jsonb_build_object(
      'type', 'playback', 'mode', 'stage', 'provider', 'livekit', 'latency_mode', 'low',
      'hls_url', null, 'reason', v_state.pending_reason, 'switched_at', now()));
    return 'switched_to_stage';
  end if;

  if url is distinct from v_url then
    -- The configuration changed while the job ran: check the new URL right away.
    update app_private.stream_playback p set check_due_at = now() where p.stream_id = v_state.stream_id;
    return 'stale';
  end if;

  if not ok then
    v_delay := least(v_cfg.retry_max_seconds, v_cfg.retry_base_seconds * (2 ^ least(v_state.attempts, 16))::integer);
    update app_private.stream_playback p
       set attempts = v_state.attempts + 1, last_check_at = now(), last_check_ok = false, last_check_url = url,
           last_error = left(coalesce(record_hls_check.error, 'check failed'), 500),
           check_due_at = now() + make_interval(secs => v_delay)
     where p.stream_id = v_state.stream_id;
    return 'retry';
  end if;

  if v_state.pending = 'verify' then
    update app_private.stream_playback p
       set last_check_at = now(), last_check_ok = true, last_check_url = url, last_error = null,
           pending = null, pending_reason = null, check_due_at = null, attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'verified';
  end if;

  -- pending = 'to_hls' and the URL works: switch and tell every viewer.
  update app_private.stream_playback p
     set mode = 'hls', mode_reason = v_state.pending_reason, switched_at = now(),
         last_check_at = now(), last_check_ok = true, last_check_url = url, last_error = null,
         pending = null, pending_reason = null, check_due_at = null, attempts = 0
   where p.stream_id = v_state.stream_id;
  perform app_private.publish_stream_event(v_state.stream_id, 'stream_state', jsonb_build_object(
    'type', 'playback', 'mode', 'hls', 'provider', v_state.hls_provider, 'latency_mode', 'standard',
    'hls_url', url, 'reason', v_state.pending_reason, 'switched_at', now()));
  return 'switched_to_hls';
end;
$$;

--
-- Name: FUNCTION record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) IS 'Result of a streams__check_hls job: switches (and publishes a stream_state event) only on a passing check of the current URL; a failure keeps the current path, records why and schedules a retry with backoff.';

--
-- Name: record_login_failure(text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.record_login_failure(username_or_email text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_key text := app_private.login_account_key(username_or_email);
  v_window interval := make_interval(secs => app_private.gift_setting('login_window_seconds', 900));
  v_failures integer;
begin
  insert into app_private.login_failures as f (account, failures, window_start) values (v_key, 1, now())
  on conflict (account) do update
    set failures = case when f.window_start + v_window <= now() then 1 else f.failures + 1 end,
        window_start = case when f.window_start + v_window <= now() then now() else f.window_start end
  returning f.failures into v_failures;
  -- Expired windows are forgotten (a few at a time, oldest first).
  delete from app_private.login_failures f
   where f.account in (select o.account from app_private.login_failures o
                        where o.window_start < now() - v_window order by o.window_start limit 100);
  return v_failures;
end;
$$;

--
-- Name: FUNCTION record_login_failure(username_or_email text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.record_login_failure(username_or_email text) IS 'Counts one failed sign-in against the account (login_failures, per window). Returns the failures in the current window. Must run in a transaction that commits: the CREDS error of app_public.login rolls back its own record.';

--
-- Name: relay_stream_events(integer, integer); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.relay_stream_events(max_events integer DEFAULT 10000, max_payload integer DEFAULT 7900) RETURNS TABLE(notifies integer, events integer)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  b record;
  v_notifies int := 0;
  v_events int := 0;
begin
  -- Only one relay at a time, across all processes: the others skip this tick.
  if not pg_try_advisory_xact_lock(hashtextextended('trollcity.stream_events.relay', 0)) then
    return query select 0, 0;
    return;
  end if;
  perform set_config('synchronous_commit', 'off', true);
  perform app_private.publish_viewer_counts();
  for b in select * from app_private.next_stream_event_batches(max_events, max_payload) loop
    perform pg_notify('stream_events:' || b.stream_id, b.payload);
    v_notifies := v_notifies + 1;
    v_events := v_events + b.events;
  end loop;
  perform app_private.prune_stream_events();
  return query select v_notifies, v_events;
end;
$$;

--
-- Name: FUNCTION relay_stream_events(max_events integer, max_payload integer); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.relay_stream_events(max_events integer, max_payload integer) IS 'Relay tick (every 50-100 ms from each server process; one runs at a time under an advisory lock, the others skip): publishes viewer counts, then sends one NOTIFY per stream batch on channel stream_events:<stream id>. Returns (notifies, events).';

--
-- Name: request_transition(uuid, text, text, uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_state app_private.stream_playback;
begin
  select * into v_state from app_private.stream_playback p where p.stream_id = request_transition.stream_id for update;
  if v_state.stream_id is null then
    return null;
  end if;
  if target = 'hls' then
    if v_state.mode = 'hls' then
      -- Already there: a pending switch back is cancelled.
      if v_state.pending = 'to_stage' then
        update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
         where p.stream_id = v_state.stream_id;
      end if;
      return null;
    end if;
    if v_state.pending = 'to_hls' then
      return 'to_hls';
    end if;
    update app_private.stream_playback p
       set pending = 'to_hls', pending_reason = reason, requested_by = request_transition.requested_by,
           requested_at = now(), check_due_at = now(), attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'to_hls';
  elsif target = 'stage' then
    if v_state.mode = 'stage' then
      if v_state.pending = 'to_hls' then
        update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
         where p.stream_id = v_state.stream_id;
      end if;
      return null;
    end if;
    if v_state.pending = 'to_stage' then
      return 'to_stage';
    end if;
    update app_private.stream_playback p
       set pending = 'to_stage', pending_reason = reason, requested_by = request_transition.requested_by,
           requested_at = now(), check_due_at = now(), attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'to_stage';
  end if;
  raise exception 'transition target must be hls or stage (got "%")', target using errcode = 'BADIN';
end;
$$;

--
-- Name: FUNCTION request_transition(stream_id uuid, target text, reason text, requested_by uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) IS 'Sets (or cancels) the pending transition of a stream; the worker checks and switches.';

--
-- Name: require_staff(boolean); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.require_staff(admin_only boolean) RETURNS app_public.users
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
begin
  if admin_only and v_me.role <> 'admin' then
    raise exception 'admins only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if v_me.role not in ('admin', 'moderator') then
    raise exception 'admins and moderators only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  return v_me;
end;
$$;

--
-- Name: FUNCTION require_staff(admin_only boolean); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.require_staff(admin_only boolean) IS 'The signed-in, unbanned admin (or, unless admin_only, moderator). Errors: NOAUT, BANND, DENYD.';

--
-- Name: require_user(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.require_user() RETURNS app_public.users
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
begin
  select * into v_user from app_public.users u where u.id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  return v_user;
end;
$$;

--
-- Name: FUNCTION require_user(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.require_user() IS 'The signed-in, unbanned caller. Errors: NOAUT, BANND.';

--
-- Name: restore_relay_state(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.restore_relay_state() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  insert into app_private.relay_state (id) values (true) on conflict (id) do nothing;
  if not found then
    return false;
  end if;
  -- relay_state is UNLOGGED: its row is missing only after crash recovery emptied it (or someone
  -- deleted it). The relay commits asynchronously (synchronous_commit off), so the last delivery
  -- numbers it handed out before the crash may not be durable and the sequence may now be behind ids
  -- clients have seen: jump far ahead, so delivery ids never repeat (a client resuming from an id of
  -- before the crash then gets resumed: false and resets, as it must: the outbox was emptied).
  perform setval('app_private.stream_event_seq', (select s.last_value from app_private.stream_event_seq s) + 1000000);
  return true;
end;
$$;

--
-- Name: FUNCTION restore_relay_state(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.restore_relay_state() IS 'Re-creates the relay_state row when crash recovery emptied it (UNLOGGED) and moves the delivery sequence 1,000,000 ahead (the relay commits asynchronously, so numbers handed out just before a crash may not be durable). Returns whether it did. Called by publish_viewer_counts and prune_stream_events.';

--
-- Name: reverse_gift(bigint, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.reverse_gift(gift_ledger_id bigint, reason text) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_gift app_private.gift_ledger;
  v_status text;
  v_tx bigint;
  v_net bigint;
begin
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to reverse a gift' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 200);
  select * into v_gift from app_private.gift_ledger g where g.id = reverse_gift.gift_ledger_id;
  if not found then
    raise exception 'gift ledger entry % not found', gift_ledger_id using errcode = 'NOFND';
  end if;
  -- Lock the queue row too (if any), so a batch cannot settle the gift while we look at it.
  perform 1 from app_private.gift_settlement_queue q where q.gift_ledger_id = v_gift.id for update;
  v_status := (app_private.gift_status(v_gift.id)).status;
  if v_status is distinct from 'settled' then
    raise exception 'gift ledger entry % is %, only settled gifts can be reversed', gift_ledger_id, coalesce(v_status, 'unknown')
      using errcode = 'CONFL';
  end if;
  -- Both wallets, in user id order (the same order settlement uses).
  perform 1 from app_private.wallets w where w.user_id in (v_gift.sender_id, v_gift.receiver_id) order by w.user_id for update;
  select t.id into v_tx from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.reference = v_gift.id::text;
  if found then
    return v_tx;  -- already reversed
  end if;
  v_net := v_gift.coins - v_gift.fee_coins;
  if v_net > 0 then
    update app_private.wallets w set balance = w.balance - v_net, updated_at = now()
     where w.user_id = v_gift.receiver_id and w.balance >= v_net;
    if not found then
      raise exception 'insufficient funds: reversing gift % needs % coins from user %', v_gift.id, v_net, v_gift.receiver_id
        using errcode = 'INSFD';
    end if;
  end if;
  insert into app_private.wallets as w (user_id, balance) values (v_gift.sender_id, v_gift.coins)
    on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now();
  insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, credit_user_id, amount, gift_ledger_id, reference, note)
    values ('gift_reversal', 'user', v_gift.receiver_id, 'user', v_gift.sender_id, greatest(v_net, 0), v_gift.id, v_gift.id::text, btrim(reason))
    returning id into v_tx;
  if v_gift.fee_coins > 0 then
    insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, gift_ledger_id, reference, note)
      values ('gift_fee_reversal', 'platform', 'user', v_gift.sender_id, v_gift.fee_coins, v_gift.id, v_gift.id::text, btrim(reason));
  end if;
  update app_public.broadcaster_stats s
     set coins = s.coins - v_gift.coins, earned_coins = s.earned_coins - v_net, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.broadcaster_id = v_gift.receiver_id
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, v_gift.created_at)
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period));
  update app_public.gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.gifter_id = v_gift.sender_id
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, v_gift.created_at)
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period));
  update app_public.stream_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.stream_id = v_gift.stream_id and s.gifter_id = v_gift.sender_id;
  update app_public.broadcaster_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.broadcaster_id = v_gift.receiver_id and s.gifter_id = v_gift.sender_id;
  return v_tx;
end;
$$;

--
-- Name: FUNCTION reverse_gift(gift_ledger_id bigint, reason text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.reverse_gift(gift_ledger_id bigint, reason text) IS 'Refund/chargeback of a settled gift: reversing entries (receiver -> sender net, platform -> sender fee) and stats decremented. Idempotent. Errors: NOFND, CONFL (not settled), INSFD (receiver already spent the coins), BADIN.';

--
-- Name: scan_viral_thresholds(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.scan_viral_thresholds() RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_stream app_public.streams;
  v_n integer := 0;
begin
  if to_regprocedure('app_public.streams_viewer_count(app_public.streams)') is null then
    return 0;
  end if;
  for v_stream in select * from app_public.streams s where s.status = 'live' loop
    if app_private.apply_viewer_count(v_stream.id, app_private.playback_viewer_count(v_stream)) is not null then
      v_n := v_n + 1;
    end if;
  end loop;
  return v_n;
end;
$$;

--
-- Name: FUNCTION scan_viral_thresholds(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.scan_viral_thresholds() IS 'Applies the thresholds to every live stream using the realtime viewer counts (no-op until they exist).';

--
-- Name: send_chat_messages(jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.send_chat_messages(requests jsonb) RETURNS TABLE(ord integer, message_id bigint, stream_id uuid, sender_id uuid, body text, client_id text, sender jsonb, created_at text, error_code text, error_message text, retry_after numeric)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
-- The same rules as app_public.send_chat_message, for many messages from many senders in one
-- transaction (group commit). Each element of `requests` is {"sender_id", "stream_id", "body",
-- "client_id"}; the sender id is the one the server verified from the request's JWT. One row per
-- request, in request order: the message, or our error code, message and retry_after (RATEL). Nothing
-- raises for a bad request. Requests are decided in order, as if sent one after another: a sender's
-- token bucket and slow-mode clock run through their messages in the batch, and a refused message
-- changes neither. The rate, burst and length come from the same settings as send_chat_message's
-- (chat_rate_per_second, chat_burst, chat_max_length), and the body gets the same text rules as
-- app_hidden.clean_line (NFC, trimmed, no hidden or control characters), without raising.
-- Locks: the senders' bucket rows (a missing row is created full, which is the same state) and
-- slow-mode rows, in key order, before they are read.
#variable_conflict use_column
declare
  c_uuid constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_n integer;
  r record;
  v_tokens real;
  v_avail real;
  v_last timestamptz;
  v_wait numeric;
  v_id bigint;
  v_k integer := 0;
  -- Per sender (dense rank): bucket state; per (stream, sender) pair: last message in slow mode.
  u_seen boolean[] := '{}';
  u_tokens real[] := '{}';
  u_refilled timestamptz[] := '{}';
  u_dirty boolean[] := '{}';
  u_id uuid[] := '{}';
  p_seen boolean[] := '{}';
  p_last timestamptz[] := '{}';
  p_dirty boolean[] := '{}';
  p_stream uuid[] := '{}';
  p_user uuid[] := '{}';
  -- Per request: the outcome.
  o_id bigint[] := '{}';
  o_stream uuid[] := '{}';
  o_sender_id uuid[] := '{}';
  o_body text[] := '{}';
  o_client text[] := '{}';
  o_sender jsonb[] := '{}';
  o_code text[] := '{}';
  o_message text[] := '{}';
  o_retry numeric[] := '{}';
begin
  -- Ephemeral chat is not durable by accident (rule 4), as in send_chat_message.
  perform set_config('synchronous_commit', 'off', true);
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_chat_messages takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  select coalesce(max(t.value) filter (where t.key = 'chat_rate_per_second')::real, 1.0),
         coalesce(max(t.value) filter (where t.key = 'chat_burst')::real, 5.0),
         coalesce(max(t.value) filter (where t.key = 'chat_max_length')::int, 500)
    into v_rate, v_burst, v_max_length
    from app_private.settings t
   where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length');
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Every array indexed by request or rank is sized to the batch (1-based, so unnest lines them up).
  u_seen := array_fill(null::boolean, array[v_n]);
  u_tokens := array_fill(null::real, array[v_n]);
  u_refilled := array_fill(null::timestamptz, array[v_n]);
  u_dirty := array_fill(null::boolean, array[v_n]);
  u_id := array_fill(null::uuid, array[v_n]);
  p_seen := array_fill(null::boolean, array[v_n]);
  p_last := array_fill(null::timestamptz, array[v_n]);
  p_dirty := array_fill(null::boolean, array[v_n]);
  p_stream := array_fill(null::uuid, array[v_n]);
  p_user := array_fill(null::uuid, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_stream := array_fill(null::uuid, array[v_n]);
  o_sender_id := array_fill(null::uuid, array[v_n]);
  o_body := array_fill(null::text, array[v_n]);
  o_client := array_fill(null::text, array[v_n]);
  o_sender := array_fill(null::jsonb, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);
  o_retry := array_fill(null::numeric, array[v_n]);

  -- Sorted locks. Token buckets of every sender that exists (a full new bucket equals no bucket).
  insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at)
  select distinct i.user_id, v_burst, now()
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
   order by 1
  on conflict (user_id) do nothing;
  perform 1 from app_private.chat_rate_buckets b
   where b.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e where e ->> 'sender_id' ~ c_uuid)
   order by b.user_id
   for update;
  -- Slow-mode clocks of every (stream in slow mode, sender) pair ('-infinity': never chatted there).
  insert into app_private.chat_slow_mode as sm (stream_id, user_id, last_at)
  select distinct s.id, i.user_id, '-infinity'::timestamptz
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
    join app_public.streams s on s.id = (case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end)
   where s.chat_slow_mode_seconds > 0
   order by 1, 2
  on conflict on constraint chat_slow_mode_pkey do nothing;
  perform 1 from app_private.chat_slow_mode sm
    join (select case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end as s,
                 case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end as u
            from jsonb_array_elements(requests) e) x on x.s = sm.stream_id and x.u = sm.user_id
   order by sm.stream_id, sm.user_id
   for update of sm;

  for r in
    select q.*, i.user_id is not null as user_found, i.role, i.is_banned,
           s.id as s_id, s.status as s_status, s.chat_slow_mode_seconds as slow,
           i.sender || jsonb_build_object('badge', case
             when s.broadcaster_id = q.sender_id then 'host'
             when i.role in ('moderator', 'admin') then i.role::text
           end) as sender_json,
           s.broadcaster_id = q.sender_id or i.role in ('moderator', 'admin') as exempt,
           s.id = any (i.restricted_in) as hinted,
           lp.line as body_text, lp.problem as body_problem,
           b.tokens as b_tokens, b.refilled_at as b_refilled, sm.last_at as sm_last,
           dense_rank() over (order by q.sender_id) as urank,
           dense_rank() over (order by s.id, q.sender_id) as prank
      from (
        select e.ord::integer as ord,
               case when e.r ->> 'sender_id' ~ c_uuid then (e.r ->> 'sender_id')::uuid end as sender_id,
               e.r ->> 'stream_id' as stream_raw,
               case when e.r ->> 'stream_id' ~ c_uuid then (e.r ->> 'stream_id')::uuid end as stream_uuid,
               e.r ->> 'body' as body_raw,
               e.r ->> 'client_id' as client_text
          from jsonb_array_elements(requests) with ordinality e(r, ord)
      ) q
      cross join lateral app_hidden.line_problem(q.body_raw, 'chat message', v_max_length) lp
      left join app_private.user_identities i on i.user_id = q.sender_id
      left join app_public.streams s on s.id = q.stream_uuid
      left join app_private.chat_rate_buckets b on b.user_id = q.sender_id
      left join app_private.chat_slow_mode sm on sm.stream_id = s.id and sm.user_id = q.sender_id
     order by q.ord
  loop
    if not u_seen[r.urank] is true then
      u_seen[r.urank] := true; u_tokens[r.urank] := r.b_tokens; u_refilled[r.urank] := r.b_refilled; u_id[r.urank] := r.sender_id;
    end if;
    if not p_seen[r.prank] is true then
      p_seen[r.prank] := true; p_last[r.prank] := r.sm_last; p_stream[r.prank] := r.s_id; p_user[r.prank] := r.sender_id;
    end if;
    if r.sender_id is null then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := 'sign in to chat';
    elsif r.body_problem is not null then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := r.body_problem;
    elsif r.client_text is not null and (char_length(r.client_text) > 64 or not app_hidden.is_clean_line(r.client_text)) then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := 'client_id must be at most 64 printable characters';
    elsif not r.user_found then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := format('user %s not found', r.sender_id);
    elsif r.is_banned then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned', r.sender_json ->> 'username');
    elsif r.s_id is null then
      o_code[r.ord] := 'NOFND'; o_message[r.ord] := format('stream %s not found', coalesce(r.stream_raw, '<NULL>'));
    elsif r.s_status <> 'live' then
      o_code[r.ord] := 'NLIVE'; o_message[r.ord] := format('stream %s is not live', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_bans b
             where b.stream_id = r.s_id and b.user_id = r.sender_id and (b.banned_until is null or b.banned_until > now())) then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned from stream %s', r.sender_json ->> 'username', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_mutes m
             where m.stream_id = r.s_id and m.user_id = r.sender_id and (m.muted_until is null or m.muted_until > now())) then
      o_code[r.ord] := 'MUTED'; o_message[r.ord] := format('user %s is muted in stream %s', r.sender_json ->> 'username', r.s_id);
    else
      v_wait := null;
      if not r.exempt then
        -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
        v_last := p_last[r.prank];
        if r.slow > 0 and v_last is not null and v_last > now() - make_interval(secs => r.slow) then
          v_wait := round(greatest(ceil(extract(epoch from (v_last + make_interval(secs => r.slow) - now())) * 10), 1) / 10, 1);
          o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
          o_message[r.ord] := format('slow mode in stream %s: retry after %s seconds', r.s_id, v_wait);
        else
          -- Token bucket: v_rate messages per second, bursts of v_burst.
          v_tokens := u_tokens[r.urank];
          v_avail := case when v_tokens is null then v_burst
                          else least(v_burst, v_tokens + extract(epoch from now() - u_refilled[r.urank])::real * v_rate) end;
          if v_avail < 1 then
            v_wait := round(greatest(ceil(((1 - v_avail) / v_rate * 10)::numeric), 1) / 10, 1);
            o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
            o_message[r.ord] := format('chat rate limit for user %s: retry after %s seconds', r.sender_json ->> 'username', v_wait);
          else
            u_tokens[r.urank] := v_avail - 1; u_refilled[r.urank] := now(); u_dirty[r.urank] := true;
            if r.slow > 0 then
              p_last[r.prank] := now(); p_dirty[r.prank] := true;
            end if;
          end if;
        end if;
      end if;
      if v_wait is null then
        v_id := nextval('app_private.chat_message_id_seq');
        v_k := v_k + 1;
        o_id[r.ord] := v_id; o_stream[r.ord] := r.s_id; o_sender_id[r.ord] := r.sender_id; o_body[r.ord] := r.body_text;
        o_client[r.ord] := r.client_text; o_sender[r.ord] := r.sender_json;
      end if;
    end if;
  end loop;

  if v_k > 0 then
    insert into app_private.chat_messages (id, stream_id, sender_id, body, client_id, sender)
    select x.id, x.stream_id, x.sender_id, x.body, x.client_id, x.sender
      from unnest(o_id, o_stream, o_sender_id, o_body, o_client, o_sender) with ordinality x(id, stream_id, sender_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
    -- One outbox event per message, in request order (what app_private.publish_stream_event inserts).
    insert into app_private.stream_events (stream_id, kind, payload)
    select x.stream_id, 'chat', jsonb_build_object('message_id', x.id, 'body', x.body, 'client_id', x.client_id,
                                                   'sender', x.sender, 'created_at', now())
      from unnest(o_id, o_stream, o_body, o_client, o_sender) with ordinality x(id, stream_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
  end if;
  update app_private.chat_rate_buckets b set tokens = x.tokens, refilled_at = x.refilled_at
    from unnest(u_id, u_tokens, u_refilled, u_dirty) x(user_id, tokens, refilled_at, dirty)
   where x.dirty and b.user_id = x.user_id;
  update app_private.chat_slow_mode sm set last_at = x.last_at
    from unnest(p_stream, p_user, p_last, p_dirty) x(stream_id, user_id, last_at, dirty)
   where x.dirty and sm.stream_id = x.stream_id and sm.user_id = x.user_id;

  return query
    select i, o_id[i], o_stream[i], o_sender_id[i], o_body[i], o_client[i], o_sender[i],
           case when o_id[i] is not null then to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') end,
           o_code[i], o_message[i], o_retry[i]
      from generate_series(1, v_n) i;
end;
$_$;

--
-- Name: FUNCTION send_chat_messages(requests jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.send_chat_messages(requests jsonb) IS 'Group commit for chat: app_public.send_chat_message''s rules for a batch of messages from many senders (sender ids verified by the server), one outcome row per request (message, or error code, message and retry_after), in request order; never raises for one request; synchronous_commit off. Executable by trollcity_server only.';

--
-- Name: send_gifts(jsonb); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.send_gifts(requests jsonb) RETURNS TABLE(ord integer, gift_ledger_id bigint, stream_id uuid, gift_id uuid, quantity integer, coins bigint, status text, balance bigint, replayed boolean, created_at text, error_code text, error_message text, retry_after numeric)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
-- The same rules as app_public.send_gift, for many requests from many senders in one transaction
-- (group commit: one durable commit for the batch). Each element of `requests` is
-- {"sender_id", "stream_id", "gift_id", "quantity" (absent: 1), "idempotency_key"}; the sender id is
-- the one the server verified from the request's JWT. One row per request, in request order: the
-- receipt, or our error code and message. Nothing raises for a bad request, so one request never fails
-- the others. Requests are decided in order, as if sent one after another: a key used twice in the
-- batch replays the first accepted gift (IDEMP if the arguments differ), and each sender's balance runs
-- down through their requests. Wallets are locked first, in user id order, then the idempotency keys
-- are looked up, so a concurrent send_gift with the same key is either seen or waits for us.
#variable_conflict use_column
declare
  v_fee_bps integer := app_private.gift_setting('gift_fee_bps', 2000);
  v_n integer;
  v_rows app_private.gift_request[];
  r app_private.gift_request;
  v_coins bigint;
  v_j integer;
  -- Per sender (srank): running balance.
  s_balance bigint[];
  -- Per idempotency group (kgroup): the request that was accepted, and its arguments.
  k_accepted integer[];
  k_stream uuid[];
  k_gift uuid[];
  k_qty integer[];
  -- Per request: 'new' (accepted), 'replay' (of a gift committed before), 'again' (of one accepted
  -- earlier in this batch) or null (refused: code and message); the ledger id; the balance after it.
  o_kind text[];
  o_id bigint[];
  o_balance bigint[];
  o_code text[];
  o_message text[];
begin
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_gifts takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Arrays indexed by request, sender or group, sized to the batch (1-based, so unnest lines them up).
  s_balance := array_fill(null::bigint, array[v_n]);
  k_accepted := array_fill(null::integer, array[v_n]);
  k_stream := array_fill(null::uuid, array[v_n]);
  k_gift := array_fill(null::uuid, array[v_n]);
  k_qty := array_fill(null::integer, array[v_n]);
  o_kind := array_fill(null::text, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_balance := array_fill(null::bigint, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);

  -- Sorted locks: every sender's wallet, in user id order (as settlement does), before anything is read.
  perform 1 from app_private.wallets w
   where w.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e
                        where jsonb_typeof(e) = 'object'
                          and e ->> 'sender_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
   order by w.user_id
   for update;

  -- The decisions, in request order: only what depends on earlier requests (replays, funds) is done
  -- here; the checks that depend on nothing else come with the rows (gift_request_rows).
  v_rows := array(select q from app_private.gift_request_rows(requests) q order by q.ord);
  foreach r in array v_rows loop
    if r.sfirst then
      s_balance[r.srank] := r.w_balance;
    end if;
    if r.pre_code is not null then
      o_code[r.ord] := r.pre_code; o_message[r.ord] := r.pre_message;
    elsif r.idem_key is not null and r.l_id is not null then
      -- Replay of a gift committed before this batch (gift_receipt_for's rule).
      if (r.l_stream, r.l_gift, r.l_qty) is distinct from (r.stream_uuid, r.gift_uuid, r.qty) then
        o_code[r.ord] := 'IDEMP';
        o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, r.l_id);
      else
        o_kind[r.ord] := 'replay'; o_id[r.ord] := r.l_id; o_balance[r.ord] := s_balance[r.srank];
      end if;
    elsif r.idem_key is not null and k_accepted[r.kgroup] is not null then
      -- Replay of a gift accepted earlier in this batch.
      v_j := k_accepted[r.kgroup];
      if (k_stream[r.kgroup], k_gift[r.kgroup], k_qty[r.kgroup]) is distinct from (r.stream_uuid, r.gift_uuid, r.qty) then
        o_code[r.ord] := 'IDEMP';
        o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, o_id[v_j]);
      else
        o_kind[r.ord] := 'again'; o_id[r.ord] := o_id[v_j]; o_balance[r.ord] := s_balance[r.srank];
      end if;
    elsif r.check_code is not null then
      o_code[r.ord] := r.check_code; o_message[r.ord] := r.check_message;
    else
      v_coins := r.coin_price::bigint * r.qty;
      if s_balance[r.srank] is null or s_balance[r.srank] < v_coins then
        o_code[r.ord] := 'INSFD';
        o_message[r.ord] := format('insufficient funds: %s × "%s" costs %s coins, user %s has %s', r.qty, r.g_name, v_coins,
                                   r.username, coalesce(s_balance[r.srank], 0));
      else
        -- Accepted: the id is taken now so later requests in the batch can name it.
        s_balance[r.srank] := s_balance[r.srank] - v_coins;
        o_kind[r.ord] := 'new'; o_id[r.ord] := nextval('app_private.gift_ledger_id_seq'); o_balance[r.ord] := s_balance[r.srank];
        if r.idem_key is not null then
          k_accepted[r.kgroup] := r.ord; k_stream[r.kgroup] := r.s_id; k_gift[r.kgroup] := r.g_id; k_qty[r.kgroup] := r.qty;
        end if;
      end if;
    end if;
  end loop;

  -- Everything else in one statement, set-based: the holds (sender -> escrow; the trigger queues each
  -- for settlement), one debit per sender (rows locked above), one outbox event per gift in request
  -- order (what app_private.publish_stream_event inserts), and one outcome row per request. A key
  -- committed meanwhile by someone who did not hold the wallet lock (no writer does: every one debits
  -- first) fails the batch on the unique index; the server then retries each request alone.
  return query
    with q as (select * from unnest(v_rows)),
         o as (select * from unnest(o_kind, o_id, o_balance, o_code, o_message) with ordinality x(kind, id, balance, code, message, ord)),
         acc as materialized (
           select q.*, o.id as ledger_id, q.coin_price::bigint * q.qty as gift_coins
             from q join o on o.ord = q.ord
            where o.kind = 'new'),
         ins as (
           insert into app_private.gift_ledger (id, sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
             overriding system value
           select a.ledger_id, a.sender_id, a.broadcaster_id, a.s_id, a.g_id, a.qty, a.coin_price, a.gift_coins,
                  a.gift_coins * v_fee_bps / 10000, a.idem_key
             from acc a order by a.ord
           returning 1),
         deb as (
           update app_private.wallets w set balance = w.balance - d.total, updated_at = now()
             from (select a.sender_id as uid, sum(a.gift_coins)::bigint as total from acc a group by a.sender_id) d
            where w.user_id = d.uid
           returning 1),
         ev as (
           insert into app_private.stream_events (stream_id, kind, payload)
           select a.s_id, 'gift', jsonb_build_object(
                    'type', 'gift',
                    'id', a.ledger_id,
                    'stream_id', a.s_id,
                    'receiver_id', a.broadcaster_id,
                    'sender', jsonb_build_object('id', a.sender_id, 'username', a.username,
                                                 'display_name', a.display_name, 'avatar_url', a.avatar_url),
                    'gift', jsonb_build_object('id', a.g_id, 'slug', a.slug, 'name', a.g_name,
                                               'art_url', a.art_url, 'coin_price', a.coin_price),
                    'quantity', a.qty,
                    'coins', a.gift_coins,
                    'sent_at', now())
             from acc a order by a.ord
           returning 1)
    select o.ord::integer, o.id,
           case o.kind when 'replay' then q.l_stream when 'new' then q.s_id when 'again' then q.s_id end,
           case o.kind when 'replay' then q.l_gift when 'new' then q.g_id when 'again' then q.g_id end,
           case o.kind when 'replay' then q.l_qty when 'new' then q.qty when 'again' then q.qty end,
           case o.kind when 'replay' then q.l_coins when 'new' then q.coin_price::bigint * q.qty when 'again' then q.coin_price::bigint * q.qty end,
           case o.kind when 'replay' then (app_private.gift_status(o.id)).status when 'new' then 'pending' when 'again' then 'pending' end,
           o.balance,
           case when o.kind is not null then o.kind <> 'new' end,
           to_char(case o.kind when 'replay' then q.l_created when 'new' then now() when 'again' then now() end, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'),
           o.code, o.message, null::numeric
      from o join q on q.ord = o.ord
     order by o.ord;
end;
$_$;

--
-- Name: FUNCTION send_gifts(requests jsonb); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.send_gifts(requests jsonb) IS 'Group commit for gifts: app_public.send_gift''s rules for a batch of requests from many senders (sender ids verified by the server), one outcome row per request (receipt, or error code and message), in request order; never raises for one request. Executable by trollcity_server only.';

--
-- Name: settle_wallet_debts(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.settle_wallet_debts(user_id uuid) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_debt record;
  v_balance bigint;
  v_take bigint;
  v_total bigint := 0;
begin
  select w.balance into v_balance from app_private.wallets w where w.user_id = settle_wallet_debts.user_id for update;
  for v_debt in
    select d.id, d.outstanding from app_private.wallet_debts d
     where d.user_id = settle_wallet_debts.user_id and d.outstanding > 0
     order by d.created_at, d.id
     for update
  loop
    exit when coalesce(v_balance, 0) <= 0;
    v_take := least(v_balance, v_debt.outstanding);
    insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, amount, reference, note)
      values ('debt_settlement', 'user', settle_wallet_debts.user_id, 'issuer', v_take, null, format('wallet debt %s', v_debt.id));
    update app_private.wallets w set balance = w.balance - v_take, updated_at = now() where w.user_id = settle_wallet_debts.user_id;
    update app_private.wallet_debts d
       set outstanding = d.outstanding - v_take,
           settled_at = case when d.outstanding - v_take = 0 then now() end
     where d.id = v_debt.id;
    v_balance := v_balance - v_take;
    v_total := v_total + v_take;
  end loop;
  return v_total;
end;
$$;

--
-- Name: FUNCTION settle_wallet_debts(user_id uuid); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.settle_wallet_debts(user_id uuid) IS 'Pays the user''s open wallet debts (oldest first) from their balance: each payment moves coins user -> issuer (debt_settlement), so no coin is created or destroyed. Returns the coins paid. Called after every purchase.';

--
-- Name: sign_jwt(uuid); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.sign_jwt(user_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
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
-- Name: stop_stream_egresses(uuid, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.stop_stream_egresses(stream_id uuid, reason text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_row app_private.stream_egresses;
  v_n integer := 0;
begin
  for v_row in
    update app_private.stream_egresses e
       set state = case when e.egress_id is null then 'stopped' else 'stopping' end,
           stop_reason = stop_stream_egresses.reason,
           ended_at = case when e.egress_id is null then now() end,
           next_attempt_at = null
     where e.stream_id = stop_stream_egresses.stream_id and e.state in ('requested', 'starting', 'active', 'retrying')
    returning e.*
  loop
    v_n := v_n + 1;
    if v_row.state = 'stopping' and to_regnamespace('graphile_worker') is not null then
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now(),
        'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
    end if;
  end loop;
  return v_n;
end;
$$;

--
-- Name: FUNCTION stop_stream_egresses(stream_id uuid, reason text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.stop_stream_egresses(stream_id uuid, reason text) IS 'Asks the worker to stop every open egress of a stream (switched back to the stage, stream ended). Returns how many.';

--
-- Name: stream_leaderboard_event(uuid, uuid, bigint); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select jsonb_build_object(
    'type', 'leaderboard',
    'stream_id', stream_id,
    'broadcaster_id', broadcaster_id,
    'batch_id', batch_id,
    'top_gifters', coalesce((
      select jsonb_agg(jsonb_build_object('rank', t.rank, 'user_id', t.gifter_id, 'username', u.username,
                                          'display_name', u.display_name, 'avatar_url', u.avatar_url,
                                          'coins', t.coins, 'gifts', t.gifts) order by t.rank)
        from (select s.gifter_id, s.coins, s.gifts, row_number() over (order by s.coins desc, s.gifter_id) as rank
                from app_public.stream_gifter_stats s
               where s.stream_id = stream_leaderboard_event.stream_id
               order by s.coins desc, s.gifter_id limit 10) t
        join app_public.users u on u.id = t.gifter_id), '[]'::jsonb),
    'earnings', (
      select jsonb_build_object(
        'coins_today', coalesce(max(b.coins) filter (where b.period = 'day'), 0),
        'coins_all_time', coalesce(max(b.coins) filter (where b.period = 'all_time'), 0),
        'earned_all_time', coalesce(max(b.earned_coins) filter (where b.period = 'all_time'), 0))
        from app_public.broadcaster_stats b
       where b.broadcaster_id = stream_leaderboard_event.broadcaster_id
         and (b.period, b.period_start) in (('day', app_public.period_start('day', now())), ('all_time', app_public.period_start('all_time'))))
  )
$$;

--
-- Name: stream_needs_egress(uuid, text); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.stream_needs_egress(stream_id uuid, hls_provider text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  -- A stream without an HLS source of its own gets one from a LiveKit egress (when one is configured);
  -- so does a stream whose source an egress set before.
  select cfg.egress_target is not null
         and (stream_needs_egress.hls_provider is null
              or exists (select 1 from app_private.stream_egresses e where e.stream_id = stream_needs_egress.stream_id))
    from app_private.playback_settings cfg
$$;

--
-- Name: FUNCTION stream_needs_egress(stream_id uuid, hls_provider text); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.stream_needs_egress(stream_id uuid, hls_provider text) IS 'Whether the stream''s HLS comes from a LiveKit egress started by the worker (rather than a source configured for the stream).';

--
-- Name: tg__append_only(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  raise exception '%.% is append-only: % is not allowed (reverse with new entries instead)',
    tg_table_schema, tg_table_name, lower(tg_op) using errcode = 'DENYD';
end;
$$;

--
-- Name: FUNCTION tg__append_only(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__append_only() IS 'Rejects UPDATE/DELETE/TRUNCATE on ledger tables; corrections are new, reversing entries.';

--
-- Name: tg__chat_restriction_hint(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__chat_restriction_hint() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  update app_private.user_identities i
     set restricted_in = i.restricted_in || new.stream_id
   where i.user_id = new.user_id and not (new.stream_id = any (i.restricted_in));
  return null;
end;
$$;

--
-- Name: FUNCTION tg__chat_restriction_hint(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg__chat_restriction_hint() IS 'Adds the stream of a new (or moved) mute or ban to the user''s restricted_in hint.';

--
-- Name: tg__timestamps(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg__timestamps() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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

--
-- Name: tg_gift_ledger__queue(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_gift_ledger__queue() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  -- A statement trigger over the inserted rows (transition table new_rows): one insert per statement,
  -- not one trigger call and one insert per gift (a batch of 60 gifts: ~8 % less database time).
  insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
  select n.id, n.sender_id, n.receiver_id, n.stream_id, n.quantity, n.coins, n.fee_coins, n.created_at
    from new_rows n;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_gift_ledger__queue(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_gift_ledger__queue() IS 'Queues every appended gift for settlement, in the same transaction (statement trigger, transition table new_rows).';

--
-- Name: tg_stream_playback__egress(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_stream_playback__egress() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_cfg app_private.playback_settings;
  v_id uuid;
begin
  if new.pending = 'to_hls' and old.pending is distinct from 'to_hls'
     and app_private.stream_needs_egress(new.stream_id, new.hls_provider) then
    -- Going viral: the worker starts a LiveKit egress; the health check waits until it is active.
    select * into v_cfg from app_private.playback_settings;
    if v_cfg.egress_target = 'origin' and new.hls_provider is null then
      new.hls_provider := 'origin';
      new.origin_path := null; -- origin_path_template: where the egress writes its playlist
    end if;
    insert into app_private.stream_egresses (stream_id, target) values (new.stream_id, v_cfg.egress_target)
      on conflict (stream_id) where state in ('requested', 'starting', 'active', 'retrying') do nothing
      returning id into v_id;
    if v_id is not null then
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_id), now(),
        'stream_egresses__run:' || v_id, 'egress:' || new.stream_id);
    end if;
  elsif new.mode = 'stage' and ((old.mode = 'hls') or (old.pending = 'to_hls' and new.pending is distinct from 'to_hls')) then
    -- Back on the stage (or the switch to HLS was cancelled): the egress has nothing left to do.
    perform app_private.stop_stream_egresses(new.stream_id, 'back on the stage');
  end if;
  return new;
end;
$$;

--
-- Name: FUNCTION tg_stream_playback__egress(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_stream_playback__egress() IS 'Starts a LiveKit egress (through the stream_egresses__run job) when a stream without its own HLS source is asked to go viral, and stops it when viewers are back on the stage.';

--
-- Name: tg_stream_seats__clear_request(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_stream_seats__clear_request() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  delete from app_public.stream_seat_requests r where r.stream_id = new.stream_id and r.user_id = new.user_id;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_stream_seats__clear_request(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_stream_seats__clear_request() IS 'An invitation answers a request to join the stage: the request goes (its seat event, invited, tells the clients).';

--
-- Name: tg_stream_seats__enqueue(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_stream_seats__enqueue() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
  v_action text;
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.expires_at is not distinct from old.expires_at then
    return null;
  end if;
  -- LiveKit must change when a seat starts or stops publishing: enforce now. One serial queue per
  -- participant, so a late job carrying an older decision never runs after a newer one.
  if tg_op = 'UPDATE' and new.status is distinct from old.status and 'active' in (new.status, old.status) then
    perform app_private.add_job('stream_seats__enforce', json_build_object('seat_id', new.id), now(), 'stream_seats__enforce:' || new.id,
      'livekit:' || new.stream_id || ':' || new.user_id);
  end if;
  -- Expiry: one job per seat, a second early; the job waits for expires_at itself.
  if new.status in ('invited', 'active') and new.expires_at is not null
     and (tg_op = 'INSERT' or new.expires_at is distinct from old.expires_at) then
    perform app_private.add_job('stream_seats__enforce', json_build_object('seat_id', new.id),
      new.expires_at - interval '1 second', 'stream_seats__enforce:expiry:' || new.id, 'livekit:' || new.stream_id || ':' || new.user_id);
  end if;
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    v_action := case new.status when 'invited' then 'invited' when 'active' then 'accepted' else new.status end;
    select * into v_user from app_public.users u where u.id = new.user_id;
    perform app_private.publish_stream_event(new.stream_id, 'seat', jsonb_build_object(
      'action', v_action,
      'seat', jsonb_build_object(
        'id', new.id, 'stream_id', new.stream_id, 'user_id', new.user_id, 'slot', new.slot, 'status', new.status,
        'expires_at', new.expires_at, 'end_reason', new.end_reason),
      'user', jsonb_build_object(
        'id', v_user.id, 'username', v_user.username, 'display_name', v_user.display_name, 'avatar_url', v_user.avatar_url)
    ));
  end if;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_stream_seats__enqueue(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_stream_seats__enqueue() IS 'Publishes a seat event on every status change and enqueues stream_seats__enforce (now, and at expiry).';

--
-- Name: tg_streams__end_seats(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_streams__end_seats() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  update app_public.stream_seats s
     set status = 'ended', ended_at = now(), end_reason = 'stream ended'
   where s.stream_id = new.id and s.status in ('invited', 'active');
  return null;
end;
$$;

--
-- Name: FUNCTION tg_streams__end_seats(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_streams__end_seats() IS 'Ends every open seat when its stream ends.';

--
-- Name: tg_streams__livekit_room(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_streams__livekit_room() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  -- Going live opens the stream's LiveKit room, ending it closes the room (and stops its egresses).
  -- The job re-reads the stream, so one key per stream: a pending job is replaced, never doubled.
  if to_regnamespace('graphile_worker') is null then
    return null; -- no worker schema yet (first start, before the worker): LiveKit opens rooms on first join anyway
  end if;
  if new.status = 'ended' then
    perform app_private.stop_stream_egresses(new.id, 'stream ended');
  end if;
  perform app_private.add_job('streams__livekit_room', json_build_object('stream_id', new.id), now(),
    'streams__livekit_room:' || new.id, 'livekit-room:' || new.id);
  return null;
end;
$$;

--
-- Name: FUNCTION tg_streams__livekit_room(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_streams__livekit_room() IS 'Enqueues streams__livekit_room when a stream goes live or ends (the mutation stays a database transaction; the worker talks to LiveKit).';

--
-- Name: tg_streams__publish_ended(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_streams__publish_ended() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.publish_stream_event(new.id, 'stream_state',
    jsonb_build_object('status', 'ended', 'ended_at', new.ended_at));
  return null;
end;
$$;

--
-- Name: FUNCTION tg_streams__publish_ended(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_streams__publish_ended() IS 'Tells viewers that a stream ended: a stream_state event {status: "ended", ended_at} through the outbox (players stop, the page says so).';

--
-- Name: tg_users__clean_text(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_users__clean_text() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  -- Profile text is written directly (GraphQL updateUser*), so the rules run here, as a BADIN naming the field.
  new.display_name := app_hidden.clean_line(new.display_name, 'display name', 64);
  new.vehicle_status := app_hidden.clean_line(new.vehicle_status, 'vehicle status', 40, 0);
  if new.avatar_url is not null then
    new.avatar_url := nullif(btrim(new.avatar_url), '');
    if new.avatar_url !~ '^https?://[!-~]+$' or char_length(new.avatar_url) > 2000 then
      raise exception 'avatar URL must be an http(s) URL of at most 2000 printable ASCII characters' using errcode = 'BADIN';
    end if;
  end if;
  return new;
end;
$_$;

--
-- Name: FUNCTION tg_users__clean_text(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_users__clean_text() IS 'Display name, vehicle status and avatar URL, cleaned (NFC, trimmed) or refused with BADIN on every insert and update of app_public.users (docs/security.md).';

--
-- Name: tg_users__identity(); Type: FUNCTION; Schema: app_private; Owner: -
--

CREATE FUNCTION app_private.tg_users__identity() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  insert into app_private.user_identities (user_id, role, is_banned, sender, updated_at)
  values (new.id, new.role, new.is_banned, jsonb_build_object(
    'id', new.id,
    'username', new.username,
    'display_name', new.display_name,
    'avatar_url', new.avatar_url,
    'role', new.role,
    'vehicle_status', new.vehicle_status
  ), now())
  on conflict (user_id) do update
    set role = excluded.role, is_banned = excluded.is_banned, sender = excluded.sender, updated_at = excluded.updated_at;
  return null;
end;
$$;

--
-- Name: FUNCTION tg_users__identity(); Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON FUNCTION app_private.tg_users__identity() IS 'Keeps app_private.user_identities in step with app_public.users. SECURITY DEFINER: profile edits run as the user (UPDATE on app_public.users), who has no usage on app_private.';

--
-- Name: accept_seat(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.accept_seat(seat_id uuid) RETURNS app_public.stream_seats
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_seat app_public.stream_seats;
begin
  select * into v_seat from app_public.stream_seats s where s.id = accept_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  if v_seat.user_id <> v_me.id then
    raise exception 'seat % was offered to another user', seat_id using errcode = 'DENYD';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = v_seat.stream_id and s.status = 'live') then
    raise exception 'stream % is not live', v_seat.stream_id using errcode = 'NLIVE';
  end if;
  if v_seat.status = 'active' and (v_seat.expires_at is null or v_seat.expires_at > now()) then
    return v_seat;
  end if;
  if v_seat.status <> 'invited' or v_seat.expires_at <= now() then
    raise exception 'seat % has no open invitation (%)', seat_id,
      case when v_seat.status in ('invited', 'active') then 'expired' else v_seat.status end using errcode = 'NOFND';
  end if;
  update app_public.stream_seats s
     set status = 'active', accepted_at = now(),
         expires_at = case when s.duration_seconds is null then null else now() + make_interval(secs => s.duration_seconds) end
   where s.id = v_seat.id
  returning * into v_seat;
  return v_seat;
end;
$$;

--
-- Name: FUNCTION accept_seat(seat_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.accept_seat(seat_id uuid) IS 'Accepts an invitation: the caller may publish on stage until the seat is left, revoked or expires. Errors: NOAUT, BANND, NOFND (no open invitation), DENYD (offered to someone else), NLIVE.';

--
-- Name: admin_failed_gifts(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.admin_failed_gifts() RETURNS SETOF app_public.failed_gift
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.require_staff(true);
  return query
    select g.id, g.created_at, g.status, g.batch_id, sn.username, rc.username, g.coins
      from app_private.gift_ledger_status g
      left join app_public.users sn on sn.id = g.sender_id
      left join app_public.users rc on rc.id = g.receiver_id
     where g.status is distinct from 'settled' and g.status is distinct from 'pending'
     order by g.id desc
     limit 100;
end;
$$;

--
-- Name: FUNCTION admin_failed_gifts(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.admin_failed_gifts() IS 'Admins: the newest gifts settlement did not settle (refunded to the sender); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';

--
-- Name: admin_livekit_failures(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.admin_livekit_failures() RETURNS SETOF app_public.livekit_failure
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.require_staff(true);
  return query
    select e.stream_id, st.title, u.username, e.can_publish, e.attempts, e.last_error, e.updated_at
      from app_private.livekit_enforcements e
      left join app_public.streams st on st.id = e.stream_id
      left join app_public.users u on u.id = e.user_id
     where e.state = 'failing'
     order by e.updated_at desc
     limit 100;
end;
$$;

--
-- Name: FUNCTION admin_livekit_failures(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.admin_livekit_failures() IS 'Admins: LiveKit seat enforcements that keep failing (the worker retries them), newest first. Errors: NOAUT, BANND, DENYD.';

--
-- Name: admin_moderation_log(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.admin_moderation_log() RETURNS SETOF app_public.moderation_log_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.require_staff(false);
  return query
    select m.id, m.created_at, m.action, m.stream_id, st.title, a.username, t.username, m.reason
      from app_public.moderation_actions m
      left join app_public.streams st on st.id = m.stream_id
      left join app_public.users a on a.id = m.actor_id
      left join app_public.users t on t.id = m.target_user_id
     order by m.created_at desc, m.id desc
     limit 100;
end;
$$;

--
-- Name: FUNCTION admin_moderation_log(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.admin_moderation_log() IS 'Admins and moderators: the newest moderation actions across every stream and site-wide bans (stream null); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';

--
-- Name: admin_users(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.admin_users(search text DEFAULT NULL::text) RETURNS SETOF app_public.admin_user
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.require_staff(true);
  if char_length(search) > 100 then
    raise exception 'search must be at most 100 characters' using errcode = 'BADIN';
  end if;
  return query
    select u.id, u.username, u.display_name, s.email, u.role, u.is_banned, coalesce(w.balance, 0)::bigint, u.created_at
      from app_public.users u
      left join app_private.user_secrets s on s.user_id = u.id
      left join app_private.wallets w on w.user_id = u.id
     where coalesce(btrim(search), '') = ''
        or u.username ilike '%' || btrim(search) || '%'
        or u.display_name ilike '%' || btrim(search) || '%'
        or s.email ilike '%' || btrim(search) || '%'
     order by u.username
     limit 100;
end;
$$;

--
-- Name: FUNCTION admin_users(search text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.admin_users(search text) IS 'Admins: users whose username, display name or e-mail contains `search` (all when empty), with role, ban and balance; at most 100. Errors: NOAUT, BANND, DENYD, BADIN.';

--
-- Name: ban_site_user(uuid, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.ban_site_user(user_id uuid, reason text) RETURNS app_public.users
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may ban users site-wide (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to ban a user' using errcode = 'BADIN';
  end if;
  if ban_site_user.user_id = v_me.id then
    raise exception 'admin % may not ban themselves', v_me.username using errcode = 'DENYD';
  end if;
  -- Banned, and no moderation powers left: an admin or moderator is demoted to viewer.
  update app_public.users u
     set is_banned = true,
         role = case when u.role in ('moderator', 'admin') then 'viewer'::app_public.app_role else u.role end
   where u.id = ban_site_user.user_id
  returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  -- Every open seat ends now; the seat trigger queues the LiveKit revocation for the worker.
  update app_public.stream_seats s
     set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = 'banned site-wide'
   where s.user_id = v_user.id and s.status in ('invited', 'active');
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_ban', v_user.id, btrim(reason));
  return v_user;
end;
$$;

--
-- Name: FUNCTION ban_site_user(user_id uuid, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.ban_site_user(user_id uuid, reason text) IS 'Admins: bans a user site-wide, at once: they can no longer sign in, renew their session or act (every mutation answers BANND), their stage seats end (revoked at LiveKit by the worker) and a moderator or admin is demoted to viewer. Logged in the moderation log. Errors: NOAUT, BANND, DENYD (not an admin, or oneself), BADIN (reason), NOFND.';

--
-- Name: stream_bans; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.stream_bans (
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    banned_by uuid,
    reason text,
    banned_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_bans_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT stream_bans_reason_clean CHECK (app_hidden.is_clean_line(reason))
);

ALTER TABLE ONLY app_public.stream_bans FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE stream_bans; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.stream_bans IS 'Users banned from a stream''s chat (their messages are hidden), until banned_until (null = until unbanned).';

--
-- Name: ban_user(uuid, uuid, text, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.ban_user(stream_id uuid, user_id uuid, reason text DEFAULT NULL::text, duration_seconds integer DEFAULT NULL::integer) RETURNS app_public.stream_bans
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_ban app_public.stream_bans;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'ban duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  insert into app_public.stream_bans as b (stream_id, user_id, banned_by, reason, banned_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_bans_pkey do update
    set banned_by = excluded.banned_by, reason = excluded.reason, banned_until = excluded.banned_until, created_at = now()
  returning * into v_ban;
  perform app_private.log_moderation(stream_id, 'ban', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  -- Every client hides the banned user's messages.
  perform app_private.publish_stream_event(stream_id, 'chat_deleted', jsonb_build_object('user_id', user_id, 'reason', 'ban'));
  return v_ban;
end;
$$;

--
-- Name: FUNCTION ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) IS 'Bans a user from a stream''s chat (null duration = until unbanned) and hides their messages for everyone (a chat_deleted event with user_id). Errors: NOAUT, NOFND, DENYD, BADIN.';

--
-- Name: period_start(text, timestamp with time zone); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.period_start(period text, at timestamp with time zone DEFAULT now()) RETURNS timestamp with time zone
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case period
    when 'day' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', at)))
    when 'week' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('week', pg_catalog.timezone('UTC', at)))
    when 'month' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', at)))
    when 'all_time' then pg_catalog.timestamptz '1970-01-01 00:00:00+00'
  end
$$;

--
-- Name: FUNCTION period_start(period text, at timestamp with time zone); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.period_start(period text, at timestamp with time zone) IS '@behavior -queryField
Start (UTC) of the leaderboard period containing `at`: day, week (ISO, Monday), month, or all_time (the epoch).';

--
-- Name: broadcaster_stats; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.broadcaster_stats (
    broadcaster_id uuid NOT NULL,
    period text NOT NULL,
    period_start timestamp with time zone NOT NULL,
    coins bigint DEFAULT 0 NOT NULL,
    earned_coins bigint DEFAULT 0 NOT NULL,
    gifts bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT broadcaster_stats_check CHECK ((period_start = app_public.period_start(period, period_start))),
    CONSTRAINT broadcaster_stats_period_check CHECK ((period = ANY (ARRAY['day'::text, 'week'::text, 'month'::text, 'all_time'::text])))
);

ALTER TABLE ONLY app_public.broadcaster_stats FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE broadcaster_stats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.broadcaster_stats IS 'Coins received per broadcaster per period bucket (day, week, month, all_time; UTC), materialised by settlement. Leaderboards read only this.';

--
-- Name: COLUMN broadcaster_stats.period_start; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.broadcaster_stats.period_start IS 'UTC start of the bucket (the epoch for all_time). Gifts count in the bucket of the time they were sent.';

--
-- Name: COLUMN broadcaster_stats.coins; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.broadcaster_stats.coins IS 'Gross coins of the gifts received (what gifters spent).';

--
-- Name: COLUMN broadcaster_stats.earned_coins; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.broadcaster_stats.earned_coins IS 'Coins credited to the broadcaster after the platform fee.';

--
-- Name: COLUMN broadcaster_stats.gifts; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.broadcaster_stats.gifts IS 'Number of gift items received (quantities summed).';

--
-- Name: broadcaster_earnings(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.broadcaster_earnings(broadcaster_id uuid) RETURNS SETOF app_public.broadcaster_stats
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  select s.* from app_public.broadcaster_stats s
   where s.broadcaster_id = $1
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, now())
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period))
   order by array_position(array['day', 'week', 'month', 'all_time'], s.period);
$_$;

--
-- Name: FUNCTION broadcaster_earnings(broadcaster_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.broadcaster_earnings(broadcaster_id uuid) IS 'A broadcaster''s settled earnings in the current day, week, month and all time (UTC; one row per period that has gifts): coins received, coins kept after the fee, gifts. Only the broadcaster and admins see rows (row level security on broadcaster_stats: takings are private, the public list is leaderboard()).';

--
-- Name: cancel_seat_request(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.cancel_seat_request(stream_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
begin
  delete from app_public.stream_seat_requests r where r.stream_id = cancel_seat_request.stream_id and r.user_id = v_me.id;
  if not found then
    return false;
  end if;
  perform app_private.publish_stream_event(cancel_seat_request.stream_id, 'seat', jsonb_build_object(
    'action', 'request_cancelled',
    'request', jsonb_build_object('stream_id', cancel_seat_request.stream_id, 'user_id', v_me.id),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return true;
end;
$$;

--
-- Name: FUNCTION cancel_seat_request(stream_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.cancel_seat_request(stream_id uuid) IS 'Withdraws the caller''s request to join the stage (a seat event with action request_cancelled); false when there was none. Errors: NOAUT, BANND.';

--
-- Name: configure_stream_playback(uuid, text, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text DEFAULT NULL::text, origin_path text DEFAULT NULL::text) RETURNS app_public.playback_state
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_state app_private.stream_playback;
begin
  if v_uid is null then
    raise exception 'sign in to configure playback' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = configure_stream_playback.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may configure playback of stream %', stream_id using errcode = 'DENYD';
  end if;
  if hls_provider is not null and hls_provider not in ('mux', 'cdn', 'origin') then
    raise exception 'HLS provider must be mux, cdn or origin (got "%")', hls_provider using errcode = 'BADIN';
  end if;
  if hls_provider = 'mux' and (mux_playback_id is null or mux_playback_id !~ '^[A-Za-z0-9]{1,64}$') then
    raise exception 'a Mux playback id (1-64 letters and digits) is required for provider mux' using errcode = 'BADIN';
  end if;
  if origin_path is not null and origin_path !~ '^/[^\s?#]*\.m3u8$' then
    raise exception 'origin path must start with / and end with .m3u8 (got "%")', origin_path using errcode = 'BADIN';
  end if;
  -- An origin path belongs to its stream: it names the stream's own id as a whole path segment (as
  -- the default /live/{stream_id}/index.m3u8 does), so no broadcaster can point viewers at another
  -- stream's playlist; no dot segments either.
  if origin_path is not null
     and (pg_catalog.strpos(origin_path, '/' || v_stream.id::text || '/') = 0
          and origin_path not like '%/' || v_stream.id::text || '.m3u8'
          or origin_path ~ '(^|/)\.\.?(/|$)' or pg_catalog.strpos(origin_path, '//') > 0) then
    raise exception 'origin path must name this stream''s id as a path segment, e.g. /live/%/index.m3u8 (got "%")', v_stream.id, origin_path
      using errcode = 'BADIN';
  end if;
  insert into app_private.stream_playback (stream_id) values (v_stream.id) on conflict do nothing;
  select * into v_state from app_private.stream_playback p where p.stream_id = v_stream.id for update;
  if v_state.mode = 'hls' or v_state.pending in ('to_hls', 'verify') then
    raise exception 'stream % is on (or switching to) HLS: switch it back to the stage before changing its HLS source', stream_id
      using errcode = 'CONFL';
  end if;
  update app_private.stream_playback p
     set hls_provider = configure_stream_playback.hls_provider,
         mux_playback_id = case when configure_stream_playback.hls_provider = 'mux' then configure_stream_playback.mux_playback_id end,
         origin_path = case when configure_stream_playback.hls_provider in ('cdn', 'origin') then configure_stream_playback.origin_path end,
         last_check_ok = null, last_check_url = null, last_error = null
   where p.stream_id = v_stream.id;
  return app_public.streams_playback(v_stream);
end;
$_$;

--
-- Name: FUNCTION configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) IS 'Sets the stream''s HLS source: mux (playback id), cdn or origin (origin path, default from configuration), or null. Errors: NOAUT, NOFND, DENYD, BADIN, CONFL (on HLS now).';

--
-- Name: current_user(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public."current_user"() RETURNS app_public.users
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
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
    AS $$
  select nullif(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb ->> 'sub', '')::pg_catalog.uuid
$$;

--
-- Name: FUNCTION current_user_id(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.current_user_id() IS '@behavior -queryField
The signed-in user''s id, from the verified JWT claims (`sub`); null when anonymous.';

--
-- Name: delete_chat_message(bigint, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.delete_chat_message(message_id bigint, reason text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream_id uuid;
  v_sender_id uuid;
  v_deleted timestamptz;
begin
  if v_uid is null then
    raise exception 'sign in to delete chat messages' using errcode = 'NOAUT';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  select m.stream_id, m.sender_id, m.deleted_at into v_stream_id, v_sender_id, v_deleted
    from app_private.chat_messages m where m.id = message_id;
  if v_stream_id is null then
    select t.stream_id, t.sender_id, t.deleted_at into v_stream_id, v_sender_id, v_deleted
      from app_private.chat_transcript t where t.id = message_id;
  end if;
  if v_stream_id is null then
    raise exception 'chat message % not found', message_id using errcode = 'NOFND';
  end if;
  if v_sender_id <> v_uid and not app_hidden.can_moderate_stream(v_stream_id) then
    raise exception 'only the sender, the broadcaster or a moderator may delete chat message %', message_id using errcode = 'DENYD';
  end if;
  if v_deleted is not null then
    return false;
  end if;
  update app_private.chat_messages m set deleted_at = now() where m.id = message_id;
  update app_private.chat_transcript t set deleted_at = now(), deleted_by = v_uid where t.id = message_id;
  if v_sender_id <> v_uid then
    perform app_private.log_moderation(v_stream_id, 'delete_message', v_sender_id, reason, jsonb_build_object('message_id', message_id));
  end if;
  perform app_private.publish_stream_event(v_stream_id, 'chat_deleted', jsonb_build_object('message_id', message_id));
  return true;
end;
$$;

--
-- Name: FUNCTION delete_chat_message(message_id bigint, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.delete_chat_message(message_id bigint, reason text) IS 'Deletes a chat message for everyone (a chat_deleted event); by its sender, the broadcaster or a moderator. False when already deleted. Errors: NOAUT, NOFND, DENYD.';

--
-- Name: end_stream(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.end_stream(stream_id uuid) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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
-- Name: gift_batch_logs(integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.gift_batch_logs("limit" integer DEFAULT 50) RETURNS app_public.gift_batch_logs[]
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  if not exists (select 1 from app_public.users u where u.id = app_public.current_user_id() and u.role = 'admin') then
    raise exception 'only admins may read gift batch logs' using errcode = 'DENYD';
  end if;
  if $1 is null or $1 not between 1 and 1000 then
    raise exception 'limit must be between 1 and 1000, got %', $1 using errcode = 'BADIN';
  end if;
  return array(select l from app_public.gift_batch_logs l order by l.id desc limit $1);
end;
$_$;

--
-- Name: FUNCTION gift_batch_logs("limit" integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.gift_batch_logs("limit" integer) IS '@name giftBatchLogs
Admins: the most recent settlement batches, newest first (batch health). Errors: DENYD, BADIN.';

--
-- Name: gifter_leaderboard(text, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.gifter_leaderboard(period text DEFAULT 'week'::text, "limit" integer DEFAULT 10) RETURNS app_public.leaderboard_entry[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  if $1 is null or $1 not in ('day', 'week', 'month', 'all_time') then
    raise exception 'period must be day, week, month or all_time, got %', $1 using errcode = 'BADIN';
  end if;
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.gifter_stats s
             where s.period = $1 and s.period_start = app_public.period_start($1, now()) and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$_$;

--
-- Name: FUNCTION gifter_leaderboard(period text, "limit" integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.gifter_leaderboard(period text, "limit" integer) IS 'Top gifters by coins spent in the current period (day, week, month, all_time; UTC boundaries), settled gifts only. Reads only materialised stats (SECURITY DEFINER: app_public.gifter_stats rows are private to their gifter). Errors: BADIN.';

--
-- Name: go_live(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.go_live(title text) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
  v_title text;
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
  v_title := app_hidden.clean_line(title, 'title', 140);
  if exists (select 1 from app_public.streams s where s.broadcaster_id = v_user.id and s.status = 'live') then
    raise exception 'user % is already live', v_user.username using errcode = 'CONFL';
  end if;
  insert into app_public.streams (broadcaster_id, title) values (v_user.id, v_title)
    returning * into v_stream;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION go_live(title text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.go_live(title text) IS 'Starts a live stream owned by the caller. Errors: NOAUT, BANND, DENYD (not a broadcaster), BADIN, CONFL (already live).';

--
-- Name: grant_coins(uuid, integer, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.grant_coins(user_id uuid, coins integer, reason text) RETURNS app_public.wallet_summary
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to grant coins' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin' and not u.is_banned) then
    raise exception 'only admins may grant coins' using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to grant coins' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 200);
  if coins is null or coins not between 1 and 10000000 then
    raise exception 'coins to grant must be between 1 and 10000000, got %', coins using errcode = 'BADIN';
  end if;
  perform app_private.issue_coins(grant_coins.user_id, grant_coins.coins, 'grant', null,
                                  format('by %s: %s', v_uid, btrim(reason)));
  select w.user_id, w.balance, w.updated_at into v_out from app_private.wallets w where w.user_id = grant_coins.user_id;
  return v_out;
end;
$$;

--
-- Name: FUNCTION grant_coins(user_id uuid, coins integer, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.grant_coins(user_id uuid, coins integer, reason text) IS 'Admins: issue coins to a user, with a reason kept in the ledger. Errors: NOAUT, DENYD (not an admin), BADIN, NOFND (no such user).';

--
-- Name: invite_to_seat(uuid, uuid, integer, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer DEFAULT NULL::integer, duration_seconds integer DEFAULT NULL::integer) RETURNS app_public.stream_seats
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_guest app_public.users;
  v_slot integer := slot;
  v_seat app_public.stream_seats;
begin
  -- Lock the stream: seat assignment is serialised per stream.
  select * into v_stream from app_public.streams s where s.id = invite_to_seat.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may invite to the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  select * into v_guest from app_public.users u where u.id = invite_to_seat.user_id;
  if v_guest.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if v_guest.is_banned then
    raise exception 'user % is banned', v_guest.username using errcode = 'BANND';
  end if;
  if v_guest.id = v_stream.broadcaster_id then
    raise exception 'user % owns stream % and is always on its stage', v_guest.username, stream_id using errcode = 'BADIN';
  end if;
  if duration_seconds is not null and duration_seconds not between 10 and 86400 then
    raise exception 'seat duration must be 10-86400 seconds, got %', duration_seconds using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.user_id = v_guest.id and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat on stream %', v_guest.username, stream_id using errcode = 'SEATF';
  end if;
  if (select count(*) from app_public.stream_seats s where s.stream_id = v_stream.id and s.status in ('invited', 'active')) >= v_stream.seat_cap then
    raise exception 'the stage of stream % is full (% seats)', stream_id, v_stream.seat_cap using errcode = 'SEATF';
  end if;
  if v_slot is null then
    select min(n) into v_slot from generate_series(1, v_stream.seat_cap) n
     where not exists (select 1 from app_public.stream_seats s
                        where s.stream_id = v_stream.id and s.slot = n and s.status in ('invited', 'active'));
  elsif v_slot not between 1 and v_stream.seat_cap then
    raise exception 'slot must be between 1 and % on stream %, got %', v_stream.seat_cap, stream_id, v_slot using errcode = 'BADIN';
  elsif exists (select 1 from app_public.stream_seats s
                 where s.stream_id = v_stream.id and s.slot = v_slot and s.status in ('invited', 'active')) then
    raise exception 'slot % on stream % is taken', v_slot, stream_id using errcode = 'SEATF';
  end if;
  insert into app_public.stream_seats (stream_id, user_id, slot, invited_by, duration_seconds, expires_at)
  values (v_stream.id, v_guest.id, v_slot, v_me.id, duration_seconds,
          now() + make_interval(secs => coalesce((select t.value::int from app_private.settings t where t.key = 'stage_invitation_seconds'), 120)))
  returning * into v_seat;
  return v_seat;
end;
$$;

--
-- Name: FUNCTION invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) IS 'Invites a user to a seat on the stage (the lowest free slot unless one is given). The invitation expires after 2 minutes (setting stage_invitation_seconds); the seat lasts duration_seconds once accepted (null: until left or revoked). Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, NLIVE, BADIN, SEATF (already seated, slot taken, stage full).';

--
-- Name: leaderboard(text, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.leaderboard(period text DEFAULT 'week'::text, "limit" integer DEFAULT 10) RETURNS app_public.leaderboard_entry[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  if $1 is null or $1 not in ('day', 'week', 'month', 'all_time') then
    raise exception 'period must be day, week, month or all_time, got %', $1 using errcode = 'BADIN';
  end if;
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.broadcaster_id))::integer, t.broadcaster_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.broadcaster_id, s.coins, s.gifts from app_public.broadcaster_stats s
             where s.period = $1 and s.period_start = app_public.period_start($1, now()) and s.coins > 0
             order by s.coins desc, s.broadcaster_id limit $2) t
      join app_public.users u on u.id = t.broadcaster_id
     order by t.coins desc, t.broadcaster_id);
end;
$_$;

--
-- Name: FUNCTION leaderboard(period text, "limit" integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.leaderboard(period text, "limit" integer) IS 'Top broadcasters by coins received in the current period (day, week, month, all_time; UTC boundaries). Reads only materialised stats (SECURITY DEFINER: app_public.broadcaster_stats rows are private to their broadcaster). Errors: BADIN.';

--
-- Name: leave_seat(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.leave_seat(seat_id uuid) RETURNS app_public.stream_seats
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users;
  v_seat app_public.stream_seats;
begin
  -- A banned guest may still leave.
  select * into v_me from app_public.users u where u.id = app_public.current_user_id();
  if v_me.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  select * into v_seat from app_public.stream_seats s where s.id = leave_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  if v_seat.user_id <> v_me.id then
    raise exception 'seat % belongs to another user (managers use revoke_seat)', seat_id using errcode = 'DENYD';
  end if;
  if v_seat.status in ('invited', 'active') then
    update app_public.stream_seats s
       set status = 'left', ended_at = now(), ended_by = v_me.id, end_reason = 'left'
     where s.id = v_seat.id
    returning * into v_seat;
  end if;
  return v_seat;
end;
$$;

--
-- Name: FUNCTION leave_seat(seat_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.leave_seat(seat_id uuid) IS 'Leaves a seat or declines an invitation (idempotent). Errors: NOAUT, NOFND, DENYD (someone else''s seat).';

--
-- Name: live_streams(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.live_streams() RETURNS SETOF app_public.streams
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select s.* from app_public.streams s where s.status = 'live' order by s.started_at desc
$$;

--
-- Name: FUNCTION live_streams(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.live_streams() IS 'Streams that are live now, newest first.';

--
-- Name: livekit_grant(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.livekit_grant(stream_id uuid) RETURNS app_public.livekit_grant
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return app_private.livekit_grant_for(livekit_grant.stream_id, app_public.current_user_id());
end;
$$;

--
-- Name: FUNCTION livekit_grant(stream_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.livekit_grant(stream_id uuid) IS 'The caller''s LiveKit grant for a stream, from database state only (never from the request). Errors: NOAUT (anonymous), BANND, NOFND, NLIVE (stream ended).';

--
-- Name: login(text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.login(username_or_email text, password text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  v_user app_public.users;
  v_hash text;
  v_key text;
  v_failures app_private.login_failures;
  v_max integer := app_private.gift_setting('login_max_failures', 5);
  v_window interval := make_interval(secs => app_private.gift_setting('login_window_seconds', 900));
  v_wait integer;
  v_ok boolean;
  -- bcrypt (cost 10) of random bytes nobody kept: an unknown account costs the same work as a known one.
  c_dummy constant text := '$2a$10$CPmXNyK54JEFOB2n1ZEaAOrFZEzb57PdvMC8TO8NTcIWTbAmXEVd.';
begin
  select u.* into v_user
    from app_public.users u
    left join app_private.user_secrets s on s.user_id = u.id
   where lower(u.username) = lower(username_or_email) or lower(s.email) = lower(username_or_email)
   limit 1;
  select s.password_hash into v_hash from app_private.user_secrets s where s.user_id = v_user.id;
  v_key := app_private.login_account_key(username_or_email);
  -- One sign-in per account at a time: parallel guessing gets RATEL, not parallel bcrypt runs.
  if not pg_try_advisory_xact_lock(hashtextextended('app_public.login:' || v_key, 0)) then
    raise exception 'another sign-in for this account is in progress: retry after 1 seconds'
      using errcode = 'RATEL', detail = json_build_object('retry_after', 1)::text;
  end if;
  -- Too many failures in the window: refused before any password work.
  select * into v_failures from app_private.login_failures f where f.account = v_key;
  if v_failures.failures >= v_max and v_failures.window_start + v_window > now() then
    v_wait := greatest(ceil(extract(epoch from v_failures.window_start + v_window - now())), 1);
    raise exception 'too many failed sign-ins for this account: retry after % seconds', v_wait
      using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
  end if;
  -- Same error and the same bcrypt work whether the user is unknown or the password is wrong.
  v_ok := public.crypt(coalesce(password, ''), coalesce(v_hash, c_dummy)) = coalesce(v_hash, c_dummy) and v_hash is not null;
  if not v_ok then
    -- Not recorded here: this error rolls the transaction back. The hint tells the caller what to
    -- record in a transaction of its own (app_hidden.count_login_failure; our server does it after
    -- the rollback, web/src/server/caller.ts), see docs/security.md. It echoes only the caller's input.
    raise exception 'wrong username/email or password' using errcode = 'CREDS',
      hint = 'login_failure:' || coalesce(username_or_email, '');
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  delete from app_private.login_failures f where f.account = v_key;
  update app_private.user_secrets s
     set last_login_at = now(),
         -- Hashes below cost 10 (older or imported accounts) are upgraded while the password is at hand.
         password_hash = case when substring(s.password_hash from '^\$2[abxy]?\$(\d+)\$')::integer < 10
                              then public.crypt(password, public.gen_salt('bf', 10)) else s.password_hash end
   where s.user_id = v_user.id;
  return app_private.sign_jwt(v_user.id);
end;
$_$;

--
-- Name: FUNCTION login(username_or_email text, password text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.login(username_or_email text, password text) IS 'Signs in and returns a short-lived JWT. Throttled per account: one attempt at a time, and after 5 failures in 15 minutes RATEL until the window ends. Errors: CREDS wrong credentials, BANND banned, RATEL (retry after the seconds in the message).';

--
-- Name: stream_mutes; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.stream_mutes (
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    muted_by uuid,
    reason text,
    muted_until timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_mutes_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT stream_mutes_reason_clean CHECK (app_hidden.is_clean_line(reason))
);

ALTER TABLE ONLY app_public.stream_mutes FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE stream_mutes; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.stream_mutes IS 'Users who may not chat in a stream, until muted_until (null = until unmuted). Managed with muteUser/unmuteUser.';

--
-- Name: mute_user(uuid, uuid, integer, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer DEFAULT NULL::integer, reason text DEFAULT NULL::text) RETURNS app_public.stream_mutes
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_mute app_public.stream_mutes;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'mute duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  insert into app_public.stream_mutes as m (stream_id, user_id, muted_by, reason, muted_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_mutes_pkey do update
    set muted_by = excluded.muted_by, reason = excluded.reason, muted_until = excluded.muted_until, created_at = now()
  returning * into v_mute;
  perform app_private.log_moderation(stream_id, 'mute', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  return v_mute;
end;
$$;

--
-- Name: FUNCTION mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) IS 'Mutes a user in a stream for duration_seconds (null = until unmuted); muting again replaces the duration. Broadcaster or moderator only. Errors: NOAUT, NOFND, DENYD, BADIN.';

--
-- Name: my_coin_transactions(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.my_coin_transactions() RETURNS SETOF app_public.wallet_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
begin
  return query
    select t.id, t.created_at, t.kind,
           case when t.credit_user_id = v_me.id then t.amount else -t.amount end,
           case t.kind
             when 'purchase' then 'Bought coins'
             when 'grant' then coalesce(nullif(regexp_replace(t.note, '^by [0-9a-f-]+: ', ''), ''), 'Coins granted')
             when 'gift_settlement' then 'Gifts received'
             when 'gift_refund' then 'Gift refunded'
             when 'gift_reversal' then 'Gift reversed'
             when 'purchase_reversal' then 'Purchase refunded or disputed'
             when 'debt_settlement' then 'Paid towards a refund debt'
             else t.kind
           end
      from app_private.coin_transactions t
     where t.credit_user_id = v_me.id or t.debit_user_id = v_me.id
    union all
    -- Gifts sent are holds in the gift ledger (sender -> escrow), not coin transactions.
    select -g.id, g.created_at, 'gift_sent', -g.coins, format('Sent %s × %s', g.quantity, gf.name)
      from app_private.gift_ledger g
      join app_public.gifts gf on gf.id = g.gift_id
     where g.sender_id = v_me.id
    order by 2 desc, 1 desc
    limit 100;
end;
$$;

--
-- Name: FUNCTION my_coin_transactions(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.my_coin_transactions() IS 'The signed-in user''s wallet history, newest first: purchases, grants, gifts sent and received, refunds and clawbacks; `amount` is signed (negative: coins left the wallet). Errors: NOAUT, BANND.';

--
-- Name: my_live_stream(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.my_live_stream() RETURNS app_public.streams
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select s.* from app_public.streams s
   where s.broadcaster_id = app_public.current_user_id() and s.status = 'live'
   order by s.started_at desc
   limit 1
$$;

--
-- Name: FUNCTION my_live_stream(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.my_live_stream() IS 'The caller''s live stream (null when not live): what the studio shows.';

--
-- Name: my_wallet(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.my_wallet() RETURNS app_public.wallet_summary
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to see your wallet' using errcode = 'NOAUT';
  end if;
  select v_uid, coalesce(w.balance, 0), w.updated_at into v_out
    from (select 1) one left join app_private.wallets w on w.user_id = v_uid;
  return v_out;
end;
$$;

--
-- Name: FUNCTION my_wallet(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.my_wallet() IS 'The signed-in user''s coin balance (0 without a wallet). Errors: NOAUT.';

--
-- Name: recent_chat_messages(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.recent_chat_messages(stream_id uuid) RETURNS SETOF app_public.chat_message
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select r.id, r.stream_id, r.sender_id, r.body, r.client_id, r.sender, r.created_at
    from (
      (select m.id, m.stream_id, m.sender_id, m.body, m.client_id, m.sender, m.created_at
         from app_private.chat_messages m
        where m.stream_id = recent_chat_messages.stream_id and m.deleted_at is null
        order by m.id desc limit 200)
      union all
      (select t.id, t.stream_id, t.sender_id, t.body, t.client_id, t.sender, t.created_at
         from app_private.chat_transcript t
        where t.stream_id = recent_chat_messages.stream_id and t.deleted_at is null
        order by t.id desc limit 200)
    ) r
   where not exists (select 1 from app_public.users u where u.id = r.sender_id and u.is_banned)
     and not exists (select 1 from app_public.stream_bans b
                      where b.stream_id = r.stream_id and b.user_id = r.sender_id
                        and (b.banned_until is null or b.banned_until > now()))
   order by r.id desc
   limit 50
$$;

--
-- Name: FUNCTION recent_chat_messages(stream_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.recent_chat_messages(stream_id uuid) IS 'The last 50 chat messages of a stream (newest first), without deleted messages or messages of banned users: what a new viewer sees.';

--
-- Name: register(text, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.register(username text, email text, password text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  v_user_id uuid;
  v_hash text;
  v_welcome integer;
begin
  if username is null or username !~ '^[A-Za-z][A-Za-z0-9_]{2,23}$' then
    raise exception 'username must be a letter followed by 2-23 letters, digits or underscores' using errcode = 'BADIN';
  end if;
  if email is null or email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or not app_hidden.is_clean_line(email) then
    raise exception 'email is not a valid address' using errcode = 'BADIN';
  end if;
  -- Password policy: 10 characters at least, at most 72 bytes (bcrypt ignores the rest), not the
  -- username or the e-mail address (or its part before the @).
  if password is null or char_length(password) < 10 then
    raise exception 'password must be at least 10 characters' using errcode = 'BADIN';
  end if;
  if octet_length(password) > 72 then
    raise exception 'password must be at most 72 bytes' using errcode = 'BADIN';
  end if;
  if lower(password) in (lower(username), lower(email), lower(split_part(email, '@', 1))) then
    raise exception 'password must not be the username or the e-mail address' using errcode = 'BADIN';
  end if;
  -- bcrypt cost 10 (about 50-100 ms), computed before the availability checks so that a taken
  -- username or e-mail answers no faster than a new account.
  v_hash := public.crypt(password, public.gen_salt('bf', 10));
  -- One answer for a taken username and a taken e-mail address: the error does not say which.
  if exists (select 1 from app_public.users u where lower(u.username) = lower(register.username))
     or exists (select 1 from app_private.user_secrets s where lower(s.email) = lower(register.email)) then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
  end if;
  insert into app_public.users (username, display_name) values (username, username)
    returning id into v_user_id;
  insert into app_private.user_secrets (user_id, email, password_hash) values (v_user_id, email, v_hash);
  -- No free coins unless the operator configures a welcome grant (setting welcome_coins, default 0).
  v_welcome := coalesce((select s.value::integer from app_private.settings s where s.key = 'welcome_coins'), 0);
  if v_welcome > 0 then
    perform app_private.issue_coins(v_user_id, v_welcome, 'grant', 'welcome:' || v_user_id, 'Welcome grant');
  end if;
  return app_private.sign_jwt(v_user_id);
exception
  when unique_violation then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
end;
$_$;

--
-- Name: FUNCTION register(username text, email text, password text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.register(username text, email text, password text) IS 'Creates an account (app role viewer) and returns a signed JWT. Password: 10 characters to 72 bytes, not the username or e-mail; bcrypt cost 10. New accounts get no coins unless the operator sets a welcome grant (app_private.settings welcome_coins). Errors: BADIN invalid input, CONFL username or email taken (one message for both).';

--
-- Name: renew_token(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.renew_token() RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
begin
  select u.* into v_user from app_public.users u where u.id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  return app_private.sign_jwt(v_user.id);
end;
$$;

--
-- Name: FUNCTION renew_token(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.renew_token() IS 'A fresh short-lived JWT for the signed-in user (the web server renews its session cookie with it before the old token expires). Errors: NOAUT, BANND (a banned user''s session ends).';

--
-- Name: report_playback_failure(uuid, text, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.report_playback_failure(stream_id uuid, path text, url text DEFAULT NULL::text, reason text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_cfg app_private.playback_settings;
  v_state app_private.stream_playback;
  v_recent integer;
begin
  if path is null or path not in ('hls', 'stage') then
    raise exception 'path must be hls or stage (got "%")', path using errcode = 'BADIN';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = report_playback_failure.stream_id) then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  -- Anyone may report (anonymous viewers too), so the table is bounded: at most 60 reports per
  -- stream per minute are kept (more say nothing new; the answer is then false), and reports older
  -- than 10 minutes are pruned as new ones arrive.
  delete from app_private.playback_failure_reports r
   where r.stream_id = report_playback_failure.stream_id and r.reported_at < now() - interval '10 minutes';
  if (select count(*) from app_private.playback_failure_reports r
       where r.stream_id = report_playback_failure.stream_id and r.reported_at > now() - interval '1 minute') >= 60 then
    return false;
  end if;
  insert into app_private.playback_failure_reports (stream_id, path, url, reason, reporter_id)
    values (report_playback_failure.stream_id, path, left(app_hidden.strip_hidden(url), 2000), left(app_hidden.strip_hidden(reason), 500), app_public.current_user_id());
  -- Many HLS failures on a stream that is on HLS: have the worker verify the URL (alerts if broken).
  if path = 'hls' then
    select * into v_state from app_private.stream_playback p where p.stream_id = report_playback_failure.stream_id;
    if v_state.mode = 'hls' and v_state.pending is null then
      select * into v_cfg from app_private.playback_settings;
      select count(*) into v_recent from app_private.playback_failure_reports r
       where r.stream_id = report_playback_failure.stream_id and r.path = 'hls' and r.reported_at > now() - interval '1 minute';
      if v_recent >= v_cfg.verify_after_failures then
        update app_private.stream_playback p
           set pending = 'verify', pending_reason = 'failures', check_due_at = now(), attempts = 0
         where p.stream_id = report_playback_failure.stream_id and p.pending is null;
      end if;
    end if;
  end if;
  return true;
end;
$$;

--
-- Name: FUNCTION report_playback_failure(stream_id uuid, path text, url text, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) IS 'A player reports that a path failed (fatal HLS error, playlist 404, stage failure). Counted per stream (at most 60 kept per minute: false when this one was not kept); many HLS failures trigger a re-check. Errors: BADIN, NOFND.';

--
-- Name: stream_seat_requests; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.stream_seat_requests (
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app_public.stream_seat_requests FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE stream_seat_requests; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.stream_seat_requests IS 'Viewers who asked to join a stream''s stage (requestSeat / cancelSeatRequest); cleared by an invitation. Seen by the requester and the stage managers.';

--
-- Name: request_seat(uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.request_seat(stream_id uuid) RETURNS app_public.stream_seat_requests
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_request app_public.stream_seat_requests;
begin
  select * into v_stream from app_public.streams s where s.id = request_seat.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_me.id then
    raise exception 'the broadcaster is always on their own stage' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.stream_bans b where b.stream_id = v_stream.id and b.user_id = v_me.id
              and (b.banned_until is null or b.banned_until > now())) then
    raise exception 'user % is banned from stream %', v_me.username, v_stream.id using errcode = 'BANND';
  end if;
  if exists (select 1 from app_public.stream_seats s where s.stream_id = v_stream.id and s.user_id = v_me.id
              and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat or an invitation', v_me.username using errcode = 'SEATF';
  end if;
  select * into v_request from app_public.stream_seat_requests r where r.stream_id = v_stream.id and r.user_id = v_me.id;
  if found then
    return v_request;  -- asking twice changes nothing (and announces nothing)
  end if;
  insert into app_public.stream_seat_requests (stream_id, user_id) values (v_stream.id, v_me.id) returning * into v_request;
  perform app_private.publish_stream_event(v_stream.id, 'seat', jsonb_build_object(
    'action', 'requested',
    'request', jsonb_build_object('stream_id', v_request.stream_id, 'user_id', v_request.user_id, 'requested_at', v_request.created_at),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return v_request;
end;
$$;

--
-- Name: FUNCTION request_seat(stream_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.request_seat(stream_id uuid) IS 'A viewer asks to join a live stream''s stage; the stage managers see the request (a seat event with action requested) and may invite. Idempotent. Errors: NOAUT, BANND, NOFND, NLIVE, BADIN (the broadcaster), SEATF (already seated or invited).';

--
-- Name: request_viral_mode(uuid, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.request_viral_mode(stream_id uuid, mode text) RETURNS app_public.playback_state
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_state app_private.stream_playback;
begin
  if v_uid is null then
    raise exception 'sign in to change viral mode' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = request_viral_mode.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may change viral mode of stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if mode is null or mode not in ('hls', 'stage', 'auto') then
    raise exception 'viral mode must be hls, stage or auto (got "%")', mode using errcode = 'BADIN';
  end if;
  insert into app_private.stream_playback (stream_id) values (v_stream.id) on conflict do nothing;
  select * into v_state from app_private.stream_playback p where p.stream_id = v_stream.id for update;
  if mode = 'hls' and app_public.streams_hls_url(v_stream) is null
     and not app_private.stream_needs_egress(v_stream.id, v_state.hls_provider) then
    raise exception 'stream % has no HLS source configured (or its provider is not configured on this server)', stream_id
      using errcode = 'BADIN';
  end if;
  update app_private.stream_playback p set pinned = (request_viral_mode.mode <> 'auto') where p.stream_id = v_stream.id;
  if mode <> 'auto' then
    perform app_private.request_transition(v_stream.id, mode, 'request', v_uid);
  end if;
  return app_public.streams_playback(v_stream);
end;
$$;

--
-- Name: FUNCTION request_viral_mode(stream_id uuid, mode text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.request_viral_mode(stream_id uuid, mode text) IS 'Broadcaster/admin: hls asks to switch viewers to HLS (after a health check), stage asks to switch back; both pin the mode. auto hands it back to the viewer-count thresholds. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';

--
-- Name: revoke_seat(uuid, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.revoke_seat(seat_id uuid, reason text) RETURNS app_public.stream_seats
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_seat app_public.stream_seats;
  v_stream app_public.streams;
begin
  select * into v_seat from app_public.stream_seats s where s.id = revoke_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  select * into v_stream from app_public.streams s where s.id = v_seat.stream_id;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may revoke seat % on stream %', seat_id, v_stream.id using errcode = 'DENYD';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 200, 0);
  if v_seat.status in ('invited', 'active') then
    update app_public.stream_seats s
       set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = coalesce(reason, 'revoked')
     where s.id = v_seat.id
    returning * into v_seat;
  end if;
  return v_seat;
end;
$$;

--
-- Name: FUNCTION revoke_seat(seat_id uuid, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.revoke_seat(seat_id uuid, reason text) IS 'Takes a seat away (idempotent): the guest is ejected from the stage at LiveKit within a second. Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, BADIN.';

--
-- Name: send_chat_message(uuid, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.send_chat_message(stream_id uuid, body text, client_id text DEFAULT NULL::text) RETURNS app_public.chat_message
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_body text;
  v_is_banned boolean;
  v_sender jsonb;
  v_stream_id uuid;
  v_status text;
  v_slow int;
  v_exempt boolean;
  v_hinted boolean;
  v_found boolean;
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_tokens real;
  v_wait numeric;
  v_id bigint;
  v_created_at timestamptz;
begin
  -- Ephemeral chat is not durable by accident (rule 4): this transaction's commit does not wait
  -- for a WAL flush (and it writes no WAL-logged row anyway).
  perform set_config('synchronous_commit', 'off', true);
  if v_uid is null then
    raise exception 'sign in to chat' using errcode = 'NOAUT';
  end if;
  -- One read: the chat tunables (app_private.settings, defaults when a row is missing), the sender's
  -- identity with the badge for this stream, and the stream. It decides nothing yet: the input checks
  -- below come first, as they always have.
  select coalesce(c.rate, 1.0), coalesce(c.burst, 5.0), coalesce(c.max_length, 500),
         i.user_id is not null, i.is_banned, s.id, s.status, s.chat_slow_mode_seconds,
         i.sender || jsonb_build_object('badge', case
           when s.broadcaster_id = v_uid then 'host'
           when i.role in ('moderator', 'admin') then i.role::text
         end),
         s.broadcaster_id = v_uid or i.role in ('moderator', 'admin'),
         s.id = any (i.restricted_in)
    into v_rate, v_burst, v_max_length,
         v_found, v_is_banned, v_stream_id, v_status, v_slow, v_sender, v_exempt, v_hinted
    from (select max(t.value) filter (where t.key = 'chat_rate_per_second')::real as rate,
                 max(t.value) filter (where t.key = 'chat_burst')::real as burst,
                 max(t.value) filter (where t.key = 'chat_max_length')::int as max_length
            from app_private.settings t
           where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length')) c
    left join app_private.user_identities i on i.user_id = v_uid
    left join app_public.streams s on s.id = send_chat_message.stream_id;

  -- NFC, trimmed, 1 to chat_max_length characters, no control, bidi, zero-width or other invisible
  -- characters (app_hidden.clean_line, docs/security.md).
  v_body := app_hidden.clean_line(body, 'chat message', v_max_length);
  if client_id is not null and (char_length(client_id) > 64 or not app_hidden.is_clean_line(client_id)) then
    raise exception 'client_id must be at most 64 printable characters' using errcode = 'BADIN';
  end if;

  if not v_found or v_is_banned or v_stream_id is null or v_status <> 'live' then
    if not v_found then
      raise exception 'user % not found', v_uid using errcode = 'NOAUT';
    end if;
    if v_is_banned then
      raise exception 'user % is banned', v_sender ->> 'username' using errcode = 'BANND';
    end if;
    if v_stream_id is null then
      raise exception 'stream % not found', stream_id using errcode = 'NOFND';
    end if;
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;

  -- Stream bans and mutes: looked up only where the sender's hint names this stream (the hint is a
  -- superset of where such rows exist; the lookups decide).
  if v_hinted and not v_exempt then
    if exists (select 1 from app_public.stream_bans b
                where b.stream_id = v_stream_id and b.user_id = v_uid and (b.banned_until is null or b.banned_until > now())) then
      raise exception 'user % is banned from stream %', v_sender ->> 'username', v_stream_id using errcode = 'BANND';
    end if;
    if exists (select 1 from app_public.stream_mutes m
                where m.stream_id = v_stream_id and m.user_id = v_uid and (m.muted_until is null or m.muted_until > now())) then
      raise exception 'user % is muted in stream %', v_sender ->> 'username', v_stream_id using errcode = 'MUTED';
    end if;
  end if;

  if not v_exempt then
    -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
    if v_slow > 0 then
      insert into app_private.chat_slow_mode as s (stream_id, user_id, last_at) values (v_stream_id, v_uid, now())
      on conflict on constraint chat_slow_mode_pkey do update set last_at = excluded.last_at
        where s.last_at <= now() - make_interval(secs => v_slow);
      if not found then
        select round(greatest(ceil(extract(epoch from (s.last_at + make_interval(secs => v_slow) - now())) * 10), 1) / 10, 1)
          into v_wait from app_private.chat_slow_mode s where s.stream_id = v_stream_id and s.user_id = v_uid;
        raise exception 'slow mode in stream %: retry after % seconds', v_stream_id, v_wait
          using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
      end if;
    end if;
    -- Per-user token bucket: v_rate messages per second, bursts of v_burst.
    insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at) values (v_uid, v_burst - 1, now())
    on conflict (user_id) do update
      set tokens = least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) - 1,
          refilled_at = now()
      where least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) >= 1;
    if not found then
      select least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) into v_tokens
        from app_private.chat_rate_buckets b where b.user_id = v_uid;
      v_wait := round(greatest(ceil(((1 - v_tokens) / v_rate * 10)::numeric), 1) / 10, 1);
      raise exception 'chat rate limit for user %: retry after % seconds', v_sender ->> 'username', v_wait
        using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
    end if;
  end if;

  insert into app_private.chat_messages (stream_id, sender_id, body, client_id, sender)
  values (v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender)
  returning chat_messages.id, chat_messages.created_at into v_id, v_created_at;
  perform app_private.publish_stream_event(v_stream_id, 'chat', jsonb_build_object(
    'message_id', v_id,
    'body', v_body,
    'client_id', send_chat_message.client_id,
    'sender', v_sender,
    'created_at', v_created_at
  ));
  return row(v_id, v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender, v_created_at)::app_public.chat_message;
end;
$$;

--
-- Name: FUNCTION send_chat_message(stream_id uuid, body text, client_id text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.send_chat_message(stream_id uuid, body text, client_id text) IS 'Sends a chat message to a live stream; it reaches viewers as a `chat` event carrying the sender''s identity.
Body trimmed, 1-500 characters (setting chat_max_length), no control characters. Rate limited per user (1/s, bursts of 5: settings chat_rate_per_second, chat_burst) and by the stream''s slow mode; the broadcaster and moderators are exempt.
Errors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message).';

--
-- Name: send_gift(uuid, uuid, integer, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer DEFAULT 1, idempotency_key text DEFAULT NULL::text) RETURNS app_public.gift_receipt
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
  v_uid uuid := app_public.current_user_id();
  v_sender app_public.users;
  v_stream app_public.streams;
  v_gift app_public.gifts;
  v_row app_private.gift_ledger;
  v_coins bigint;
  v_balance bigint;
  v_max_quantity int;
begin
  if v_uid is null then
    raise exception 'sign in to send gifts' using errcode = 'NOAUT';
  end if;
  if send_gift.idempotency_key is not null then
    if char_length(send_gift.idempotency_key) not between 1 and 200 then
      raise exception 'idempotency key must be 1-200 characters' using errcode = 'BADIN';
    end if;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    if found then
      return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
    end if;
  end if;
  v_max_quantity := coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000);
  if send_gift.quantity is null or send_gift.quantity not between 1 and v_max_quantity then
    raise exception 'quantity must be between 1 and %, got %', v_max_quantity, send_gift.quantity using errcode = 'BADIN';
  end if;
  select * into v_sender from app_public.users u where u.id = v_uid;
  if not found then
    raise exception 'user % no longer exists', v_uid using errcode = 'NOAUT';
  end if;
  if v_sender.is_banned then
    raise exception 'user % is banned', v_sender.username using errcode = 'BANND';
  end if;
  select * into v_stream from app_public.streams s where s.id = send_gift.stream_id;
  if not found then
    raise exception 'stream % not found', send_gift.stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', send_gift.stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_uid then
    raise exception 'user % cannot send gifts to their own stream %', v_sender.username, v_stream.id using errcode = 'DENYD';
  end if;
  select * into v_gift from app_public.gifts gi where gi.id = send_gift.gift_id;
  if not found then
    raise exception 'gift % not found', send_gift.gift_id using errcode = 'NOFND';
  end if;
  if not v_gift.active then
    raise exception 'gift "%" is no longer available', v_gift.name using errcode = 'BADIN';
  end if;

  -- The debit first: the sender's own row only. No row, or too little: nothing is recorded (and no
  -- ledger id is spent on a gift that is refused).
  v_coins := v_gift.coin_price::bigint * send_gift.quantity;
  update app_private.wallets w set balance = w.balance - v_coins, updated_at = now()
   where w.user_id = v_uid and w.balance >= v_coins
   returning w.balance into v_balance;
  if not found then
    raise exception 'insufficient funds: % × "%" costs % coins, user % has %', send_gift.quantity, v_gift.name, v_coins,
      v_sender.username, coalesce((select w.balance from app_private.wallets w where w.user_id = v_uid), 0)
      using errcode = 'INSFD';
  end if;

  -- The hold (sender -> escrow); the trigger queues it for settlement.
  insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
    values (v_uid, v_stream.broadcaster_id, v_stream.id, v_gift.id, send_gift.quantity, v_gift.coin_price, v_coins,
            v_coins * app_private.gift_setting('gift_fee_bps', 2000) / 10000, send_gift.idempotency_key)
    on conflict (sender_id, idempotency_key) where idempotency_key is not null do nothing
    returning * into v_row;
  if not found then
    -- A concurrent request with the same key committed first: undo this debit (the whole function
    -- runs in the caller's transaction, so raise-and-catch would cost a subtransaction; a reverse
    -- update of the row we already hold is cheaper) and answer as its replay.
    update app_private.wallets w set balance = w.balance + v_coins, updated_at = now() where w.user_id = v_uid;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
  end if;

  perform app_private.publish_stream_event(v_stream.id, 'gift', jsonb_build_object(
    'type', 'gift',
    'id', v_row.id,
    'stream_id', v_stream.id,
    'receiver_id', v_stream.broadcaster_id,
    'sender', jsonb_build_object('id', v_sender.id, 'username', v_sender.username,
                                 'display_name', v_sender.display_name, 'avatar_url', v_sender.avatar_url),
    'gift', jsonb_build_object('id', v_gift.id, 'slug', v_gift.slug, 'name', v_gift.name,
                               'art_url', v_gift.art_url, 'coin_price', v_gift.coin_price),
    'quantity', send_gift.quantity,
    'coins', v_coins,
    'sent_at', v_row.created_at));

  return row(v_row.id, v_row.stream_id, v_row.gift_id, v_row.quantity, v_row.coins, 'pending', v_balance, false, v_row.created_at)::app_public.gift_receipt;
end;
$$;

--
-- Name: FUNCTION send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) IS 'Send `quantity` of a catalogue gift to a live stream''s broadcaster. The price comes from the catalogue; the sender is debited at once and the gift is settled to the broadcaster within about 10 s. Idempotent per sender and `idempotencyKey`: the same key with the same arguments returns the original receipt. Errors: NOAUT, BANND, BADIN (quantity 1-1000: setting gift_max_quantity; gift inactive), NOFND (stream or gift), NLIVE, DENYD (own stream), INSFD (cannot pay; nothing recorded), IDEMP (key reused with other arguments).';

--
-- Name: set_seat_cap(uuid, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_seat_cap(stream_id uuid, seat_cap integer) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  -- At most the table's own bound (streams_seat_cap_check, 12).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'stage_max_seats'), 12);
begin
  select * into v_stream from app_public.streams s where s.id = set_seat_cap.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may size the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if seat_cap is null or seat_cap not between 0 and v_max then
    raise exception 'seat_cap must be between 0 and %, got %', v_max, seat_cap using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.status in ('invited', 'active') and s.slot > set_seat_cap.seat_cap) then
    raise exception 'stream % has open seats above slot %: revoke them first', stream_id, seat_cap using errcode = 'SEATF';
  end if;
  update app_public.streams s set seat_cap = set_seat_cap.seat_cap where s.id = v_stream.id returning * into v_stream;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION set_seat_cap(stream_id uuid, seat_cap integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_seat_cap(stream_id uuid, seat_cap integer) IS 'Sets how many guest seats the stage has (0-12: setting stage_max_seats). Errors: NOAUT, BANND, NOFND, DENYD, BADIN, SEATF (open seats above the cap).';

--
-- Name: set_slow_mode(uuid, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_slow_mode(stream_id uuid, seconds integer) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_stream app_public.streams;
  -- At most the table's own bound (streams_chat_slow_mode_seconds_check, 3600).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'chat_slow_mode_max_seconds'), 3600);
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = set_slow_mode.stream_id) then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_hidden.can_moderate_stream(stream_id) then
    raise exception 'only the broadcaster or a moderator may set slow mode on stream %', stream_id using errcode = 'DENYD';
  end if;
  if seconds is null or seconds not between 0 and v_max then
    raise exception 'slow mode must be 0 (off) to % seconds', v_max using errcode = 'BADIN';
  end if;
  update app_public.streams s set chat_slow_mode_seconds = seconds where s.id = set_slow_mode.stream_id
    returning * into v_stream;
  perform app_private.log_moderation(stream_id, 'slow_mode', null, null, jsonb_build_object('seconds', seconds));
  perform app_private.publish_stream_event(stream_id, 'stream_state', jsonb_build_object('chat_slow_mode_seconds', seconds));
  return v_stream;
end;
$$;

--
-- Name: FUNCTION set_slow_mode(stream_id uuid, seconds integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_slow_mode(stream_id uuid, seconds integer) IS 'Sets the stream''s chat slow mode (0 = off, up to 3600 seconds between messages per viewer: setting chat_slow_mode_max_seconds). Errors: NOAUT, NOFND, DENYD, BADIN.';

--
-- Name: set_stream_details(uuid, text, text, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_stream_details(stream_id uuid, title text, category text DEFAULT NULL::text, thumbnail_url text DEFAULT NULL::text) RETURNS app_public.streams
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_category text := nullif(btrim(category), '');
  v_thumb text := nullif(btrim(thumbnail_url), '');
begin
  if v_uid is null then
    raise exception 'sign in to change a stream' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = set_stream_details.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may change stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if title is null or char_length(btrim(title)) not between 1 and 140 then
    raise exception 'title must be 1-140 characters' using errcode = 'BADIN';
  end if;
  if v_category is not null and not app_hidden.stream_category_valid(v_category) then
    raise exception 'category must be one of %', array_to_string(app_public.stream_categories(), ', ') using errcode = 'BADIN';
  end if;
  if v_thumb is not null and not app_hidden.stream_thumbnail_url_valid(v_thumb) then
    raise exception 'thumbnail URL must be an https:// URL or a path on this site (/...), at most 2000 characters without spaces'
      using errcode = 'BADIN';
  end if;
  update app_public.streams s
     set title = btrim(set_stream_details.title), category = v_category, thumbnail_url = v_thumb
   where s.id = v_stream.id
  returning * into v_stream;
  return v_stream;
end;
$$;

--
-- Name: FUNCTION set_stream_details(stream_id uuid, title text, category text, thumbnail_url text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) IS 'Sets a live stream''s title, category (one of stream_categories(), or null) and thumbnail URL (https:// or a site path, or null). Broadcaster or admin. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';

--
-- Name: set_user_role(uuid, app_public.app_role); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_user_role(user_id uuid, role app_public.app_role) RETURNS app_public.users
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may change app roles (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if role is null then
    raise exception 'role is required' using errcode = 'BADIN';
  end if;
  if set_user_role.user_id = v_me.id then
    raise exception 'admin % may not change their own role', v_me.username using errcode = 'DENYD';
  end if;
  update app_public.users u set role = set_user_role.role where u.id = set_user_role.user_id returning * into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  return v_user;
end;
$$;

--
-- Name: FUNCTION set_user_role(user_id uuid, role app_public.app_role); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_user_role(user_id uuid, role app_public.app_role) IS 'Changes a user''s app role. Admins only, never their own. Errors: NOAUT, BANND, DENYD, NOFND, BADIN.';

--
-- Name: set_vehicle_status(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.set_vehicle_status(status text) RETURNS app_public.users
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_user app_public.users;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to set a vehicle status' using errcode = 'NOAUT';
  end if;
  status := app_hidden.clean_line(status, 'vehicle status', 40, 0);
  update app_public.users u set vehicle_status = status where u.id = app_public.current_user_id()
    returning * into v_user;
  return v_user;
end;
$$;

--
-- Name: FUNCTION set_vehicle_status(status text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.set_vehicle_status(status text) IS 'Sets (or clears, with null/empty) the caller''s vehicle status shown in chat. Errors: NOAUT, BADIN.';

--
-- Name: stream_categories(); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.stream_categories() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select array['just_chatting', 'music', 'gaming', 'irl', 'talk_show', 'creative', 'sports']
$$;

--
-- Name: FUNCTION stream_categories(); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.stream_categories() IS 'The categories a stream may have (streams.category), in display order.';

--
-- Name: stream_events_since(uuid, bigint); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.stream_events_since(stream_id uuid, after_id bigint) RETURNS SETOF app_public.stream_event
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select e.seq, e.kind, e.created_at, e.payload
    from app_private.stream_events e
   where e.stream_id = stream_events_since.stream_id and e.seq > coalesce(after_id, 0)
   order by e.seq
   limit 1000
$$;

--
-- Name: FUNCTION stream_events_since(stream_id uuid, after_id bigint); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.stream_events_since(stream_id uuid, after_id bigint) IS 'Catch-up after a reconnect: relayed events of a stream with id > after_id, oldest first, at most 1000. Ids are shared by all streams, so gaps are normal. Events are kept for the stream_events_retention_seconds setting (default 120); after a longer absence reload recentChatMessages instead.';

--
-- Name: streams_hls_url(app_public.streams); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.streams_hls_url(s app_public.streams) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select case p.hls_provider
      when 'mux' then cfg.mux_base_url || '/' || p.mux_playback_id || '.m3u8'
      when 'cdn' then cfg.cdn_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
      when 'origin' then cfg.origin_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
    end
    from app_private.stream_playback p
    cross join app_private.playback_settings cfg
   where p.stream_id = s.id
$$;

--
-- Name: FUNCTION streams_hls_url(s app_public.streams); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.streams_hls_url(s app_public.streams) IS 'The stream''s HLS playlist URL derived from configuration (Mux playback id, CDN pull zone + origin path, or self-hosted origin); null when the stream has no HLS source or it is not configured.';

--
-- Name: streams_playback(app_public.streams); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.streams_playback(s app_public.streams) RETURNS app_public.playback_state
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select s.id,
         case when coalesce(p.mode, 'stage') = 'hls' then p.hls_provider else 'livekit' end,
         coalesce(p.mode, 'stage'),
         p.hls_provider,
         app_public.streams_hls_url(s),
         coalesce(p.last_check_ok and p.last_check_url = app_public.streams_hls_url(s), false),
         case when coalesce(p.mode, 'stage') = 'hls' then 'standard' else 'low' end,
         p.pending,
         p.switched_at,
         app_private.playback_viewer_count(s)
    from (select 1) one
    left join app_private.stream_playback p on p.stream_id = s.id
$$;

--
-- Name: FUNCTION streams_playback(s app_public.streams); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.streams_playback(s app_public.streams) IS 'Playback state of the stream: current path and provider, HLS URL, latency mode, pending switch, viewer count.';

--
-- Name: streams_viewer_count(app_public.streams); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.streams_viewer_count(s app_public.streams) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  return (select coalesce(sum(p.viewers), 0)::int
            from app_private.presence_counts p
           where p.stream_id = s.id and p.updated_at > now() - interval '15 seconds');
end;
$$;

--
-- Name: FUNCTION streams_viewer_count(s app_public.streams); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.streams_viewer_count(s app_public.streams) IS 'Viewers connected now (broadcast sockets and streamEvents subscriptions over all server processes), at most a few seconds old.';

--
-- Name: top_gifters(uuid, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.top_gifters(stream_id uuid, "limit" integer DEFAULT 10) RETURNS app_public.leaderboard_entry[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.stream_gifter_stats s
             where s.stream_id = $1 and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$_$;

--
-- Name: FUNCTION top_gifters(stream_id uuid, "limit" integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.top_gifters(stream_id uuid, "limit" integer) IS 'Top gifters of one stream by coins spent (settled gifts), at most 100: the public part of app_public.stream_gifter_stats (SECURITY DEFINER: the rows themselves are private). Errors: BADIN.';

--
-- Name: top_gifters_of_broadcaster(uuid, integer); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer DEFAULT 10) RETURNS app_public.leaderboard_entry[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.broadcaster_gifter_stats s
             where s.broadcaster_id = $1 and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$_$;

--
-- Name: FUNCTION top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) IS 'A broadcaster''s top gifters of all time by coins spent (settled gifts), at most 100: the public part of app_public.broadcaster_gifter_stats (SECURITY DEFINER: the rows themselves are private). Errors: BADIN.';

--
-- Name: unban_site_user(uuid, text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.unban_site_user(user_id uuid, reason text) RETURNS app_public.users
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may lift a site-wide ban (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if char_length(reason) > 200 then
    raise exception 'reason must be at most 200 characters' using errcode = 'BADIN';
  end if;
  update app_public.users u set is_banned = false where u.id = unban_site_user.user_id returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_unban', v_user.id, nullif(btrim(reason), ''));
  return v_user;
end;
$$;

--
-- Name: FUNCTION unban_site_user(user_id uuid, reason text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.unban_site_user(user_id uuid, reason text) IS 'Admins: lifts a site-wide ban (the app role stays as the ban left it). Errors: NOAUT, BANND, DENYD, BADIN, NOFND.';

--
-- Name: unban_user(uuid, uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.unban_user(stream_id uuid, user_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.moderation_target(stream_id, user_id);
  delete from app_public.stream_bans b where b.stream_id = unban_user.stream_id and b.user_id = unban_user.user_id;
  if not found then
    return false;
  end if;
  perform app_private.log_moderation(stream_id, 'unban', user_id, null);
  return true;
end;
$$;

--
-- Name: FUNCTION unban_user(stream_id uuid, user_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.unban_user(stream_id uuid, user_id uuid) IS 'Lifts a stream ban; false when the user was not banned. Errors: NOAUT, NOFND, DENYD.';

--
-- Name: unmute_user(uuid, uuid); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.unmute_user(stream_id uuid, user_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
  perform app_private.moderation_target(stream_id, user_id);
  delete from app_public.stream_mutes m where m.stream_id = unmute_user.stream_id and m.user_id = unmute_user.user_id;
  if not found then
    return false;
  end if;
  perform app_private.log_moderation(stream_id, 'unmute', user_id, null);
  return true;
end;
$$;

--
-- Name: FUNCTION unmute_user(stream_id uuid, user_id uuid); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.unmute_user(stream_id uuid, user_id uuid) IS 'Lifts a mute; false when the user was not muted. Errors: NOAUT, NOFND, DENYD.';

--
-- Name: user_by_username(text); Type: FUNCTION; Schema: app_public; Owner: -
--

CREATE FUNCTION app_public.user_by_username(username text) RETURNS app_public.users
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  select u.* from app_public.users u where lower(u.username) = lower(user_by_username.username)
$$;

--
-- Name: FUNCTION user_by_username(username text); Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON FUNCTION app_public.user_by_username(username text) IS 'A user by username (case-insensitive).';

--
-- Name: chat_message_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

CREATE SEQUENCE app_private.chat_message_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: chat_messages; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.chat_messages (
    id bigint DEFAULT nextval('app_private.chat_message_id_seq'::regclass) NOT NULL,
    stream_id uuid NOT NULL,
    sender_id uuid NOT NULL,
    body text NOT NULL,
    client_id text,
    sender jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone
);

--
-- Name: TABLE chat_messages; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.chat_messages IS 'UNLOGGED buffer of accepted chat messages not yet copied into the transcript (flush_chat_transcript moves them in batches).';

--
-- Name: chat_rate_buckets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.chat_rate_buckets (
    user_id uuid NOT NULL,
    tokens real NOT NULL,
    refilled_at timestamp with time zone NOT NULL
);

--
-- Name: TABLE chat_rate_buckets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.chat_rate_buckets IS 'Per-user token bucket for chat (UNLOGGED: losing it on a crash only forgives a few messages).';

--
-- Name: chat_slow_mode; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.chat_slow_mode (
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    last_at timestamp with time zone NOT NULL
);

--
-- Name: TABLE chat_slow_mode; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.chat_slow_mode IS 'When each user last chatted in a stream in slow mode (UNLOGGED).';

--
-- Name: chat_transcript; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.chat_transcript (
    id bigint NOT NULL,
    stream_id uuid NOT NULL,
    sender_id uuid NOT NULL,
    body text NOT NULL,
    client_id text,
    sender jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    deleted_at timestamp with time zone,
    deleted_by uuid
);

--
-- Name: TABLE chat_transcript; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.chat_transcript IS 'Durable chat transcript for moderation and late joiners, written in batches; kept for the chat_transcript_retention_days setting (default 30).';

--
-- Name: checkout_sessions; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.checkout_sessions (
    id text NOT NULL,
    user_id uuid NOT NULL,
    pack_id uuid NOT NULL,
    coins integer NOT NULL,
    amount_cents integer NOT NULL,
    currency text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    payment_intent text,
    coins_clawed bigint DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    fulfilled_at timestamp with time zone,
    CONSTRAINT checkout_sessions_amount_cents_check CHECK ((amount_cents >= 0)),
    CONSTRAINT checkout_sessions_check CHECK (((coins_clawed >= 0) AND (coins_clawed <= coins))),
    CONSTRAINT checkout_sessions_coins_check CHECK ((coins > 0)),
    CONSTRAINT checkout_sessions_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT checkout_sessions_id_check CHECK (((char_length(id) >= 1) AND (char_length(id) <= 200))),
    CONSTRAINT checkout_sessions_status_check CHECK ((status = ANY (ARRAY['open'::text, 'paid'::text, 'refunded'::text, 'disputed'::text])))
);

--
-- Name: TABLE checkout_sessions; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.checkout_sessions IS 'Stripe Checkout Sessions opened by the server, with the pack as sold, fulfilment and clawback state.';

--
-- Name: coin_transactions; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.coin_transactions (
    id bigint NOT NULL,
    kind text NOT NULL,
    debit_account text NOT NULL,
    debit_user_id uuid,
    credit_account text NOT NULL,
    credit_user_id uuid,
    amount bigint NOT NULL,
    batch_id bigint,
    gift_ledger_id bigint,
    reference text,
    note text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT coin_transactions_amount_check CHECK ((amount > 0)),
    CONSTRAINT coin_transactions_check CHECK (((debit_account = 'user'::text) = (debit_user_id IS NOT NULL))),
    CONSTRAINT coin_transactions_check1 CHECK (((credit_account = 'user'::text) = (credit_user_id IS NOT NULL))),
    CONSTRAINT coin_transactions_check2 CHECK (((debit_account <> credit_account) OR (debit_user_id <> credit_user_id))),
    CONSTRAINT coin_transactions_credit_account_check CHECK ((credit_account = ANY (ARRAY['user'::text, 'issuer'::text, 'escrow'::text, 'platform'::text]))),
    CONSTRAINT coin_transactions_debit_account_check CHECK ((debit_account = ANY (ARRAY['user'::text, 'issuer'::text, 'escrow'::text, 'platform'::text]))),
    CONSTRAINT coin_transactions_kind_check CHECK ((kind = ANY (ARRAY['purchase'::text, 'grant'::text, 'gift_settlement'::text, 'gift_fee'::text, 'gift_refund'::text, 'gift_reversal'::text, 'gift_fee_reversal'::text, 'purchase_reversal'::text, 'debt_settlement'::text]))),
    CONSTRAINT coin_transactions_reference_check CHECK (((char_length(reference) >= 1) AND (char_length(reference) <= 300)))
);

--
-- Name: TABLE coin_transactions; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.coin_transactions IS 'Every coin movement other than a gift hold, as a balanced transfer: debit_account -> credit_account. Append-only; (kind, reference) makes issuing idempotent.';

--
-- Name: coin_entries; Type: VIEW; Schema: app_private; Owner: -
--

CREATE VIEW app_private.coin_entries AS
 SELECT 'coin_transaction'::text AS source,
    t.id,
    t.kind,
    t.created_at,
    t.debit_account AS account,
    t.debit_user_id AS user_id,
    (- t.amount) AS amount
   FROM app_private.coin_transactions t
UNION ALL
 SELECT 'coin_transaction'::text AS source,
    t.id,
    t.kind,
    t.created_at,
    t.credit_account AS account,
    t.credit_user_id AS user_id,
    t.amount
   FROM app_private.coin_transactions t
UNION ALL
 SELECT 'gift_hold'::text AS source,
    g.id,
    'gift_hold'::text AS kind,
    g.created_at,
    'user'::text AS account,
    g.sender_id AS user_id,
    (- g.coins) AS amount
   FROM app_private.gift_ledger g
UNION ALL
 SELECT 'gift_hold'::text AS source,
    g.id,
    'gift_hold'::text AS kind,
    g.created_at,
    'escrow'::text AS account,
    NULL::uuid AS user_id,
    g.coins AS amount
   FROM app_private.gift_ledger g;

--
-- Name: VIEW coin_entries; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON VIEW app_private.coin_entries IS 'Double-entry view of all coin movements: every movement is two entries summing to zero.';

--
-- Name: coin_transactions_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.coin_transactions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.coin_transactions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: gift_batch_items; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.gift_batch_items (
    batch_id bigint NOT NULL,
    outcome text NOT NULL,
    gift_ids int8multirange NOT NULL,
    CONSTRAINT gift_batch_items_gift_ids_check CHECK ((NOT isempty(gift_ids))),
    CONSTRAINT gift_batch_items_outcome_check CHECK ((outcome = ANY (ARRAY['settled'::text, 'failed'::text])))
);

--
-- Name: TABLE gift_batch_items; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.gift_batch_items IS 'Which gifts each settlement batch settled (credited) or failed (refunded), as ranges of gift_ledger ids. Append-only.';

--
-- Name: gift_ledger_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.gift_ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.gift_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: gift_outcomes; Type: VIEW; Schema: app_private; Owner: -
--

CREATE VIEW app_private.gift_outcomes AS
 SELECT s.id AS gift_ledger_id,
    i.batch_id,
    i.outcome,
    l.started_at AS settled_at
   FROM (((app_private.gift_batch_items i
     JOIN app_public.gift_batch_logs l ON ((l.id = i.batch_id)))
     CROSS JOIN LATERAL unnest(i.gift_ids) r(ids))
     CROSS JOIN LATERAL generate_series(lower(r.ids), (upper(r.ids) - 1)) s(id));

--
-- Name: VIEW gift_outcomes; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON VIEW app_private.gift_outcomes IS 'Every gift a settlement batch took, with its outcome (settled or failed) and the batch''s start time.';

--
-- Name: gift_settlement_queue; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.gift_settlement_queue (
    gift_ledger_id bigint NOT NULL,
    sender_id uuid NOT NULL,
    receiver_id uuid NOT NULL,
    stream_id uuid NOT NULL,
    quantity integer NOT NULL,
    coins bigint NOT NULL,
    fee_coins bigint NOT NULL,
    created_at timestamp with time zone NOT NULL
);

--
-- Name: TABLE gift_settlement_queue; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.gift_settlement_queue IS 'Accepted gifts waiting for settlement: a copy of what settlement needs from each gift_ledger row, queued by trigger on insert and deleted by the batch that settles it. Escrow holds exactly these coins.';

--
-- Name: gift_ledger_status; Type: VIEW; Schema: app_private; Owner: -
--

CREATE VIEW app_private.gift_ledger_status AS
 SELECT g.id,
    g.sender_id,
    g.receiver_id,
    g.stream_id,
    g.gift_id,
    g.quantity,
    g.unit_price,
    g.coins,
    g.fee_coins,
    g.idempotency_key,
    g.created_at,
        CASE
            WHEN (q.gift_ledger_id IS NOT NULL) THEN 'pending'::text
            ELSE o.outcome
        END AS status,
    o.batch_id,
    o.settled_at
   FROM ((app_private.gift_ledger g
     LEFT JOIN app_private.gift_settlement_queue q ON ((q.gift_ledger_id = g.id)))
     LEFT JOIN app_private.gift_outcomes o ON ((o.gift_ledger_id = g.id)));

--
-- Name: VIEW gift_ledger_status; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON VIEW app_private.gift_ledger_status IS 'The ledger with each gift''s status (pending, settled, failed), batch and settlement time. Scans all batches: for one gift use gift_status(id).';

--
-- Name: hls_checks; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.hls_checks (
    id bigint NOT NULL,
    stream_id uuid NOT NULL,
    purpose text NOT NULL,
    url text,
    ok boolean NOT NULL,
    error text,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    checked_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT hls_checks_purpose_check CHECK ((purpose = ANY (ARRAY['to_hls'::text, 'to_stage'::text, 'verify'::text])))
);

--
-- Name: TABLE hls_checks; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.hls_checks IS 'Every health check the worker ran and what it found (history for admins).';

--
-- Name: hls_checks_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.hls_checks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.hls_checks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: livekit_anon_buckets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.livekit_anon_buckets (
    client_addr text NOT NULL,
    tokens real NOT NULL,
    refilled_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: TABLE livekit_anon_buckets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.livekit_anon_buckets IS 'Rate limit of stage tokens for signed-out viewers, per client address (app_private.livekit_grant_for).';

--
-- Name: livekit_enforcements; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.livekit_enforcements (
    stream_id uuid NOT NULL,
    user_id uuid NOT NULL,
    can_publish boolean NOT NULL,
    state text NOT NULL,
    attempts integer DEFAULT 1 NOT NULL,
    last_error text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT livekit_enforcements_state_check CHECK ((state = ANY (ARRAY['applied'::text, 'removed'::text, 'absent'::text, 'failing'::text])))
);

--
-- Name: TABLE livekit_enforcements; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.livekit_enforcements IS 'Last outcome of making LiveKit agree with the database for one participant. `absent`: not in the room, so the webhook enforces the grant when they (re)join.';

--
-- Name: login_failures; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.login_failures (
    account text NOT NULL,
    failures integer NOT NULL,
    window_start timestamp with time zone NOT NULL,
    CONSTRAINT login_failures_failures_check CHECK ((failures > 0))
);

--
-- Name: TABLE login_failures; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.login_failures IS 'Failed sign-ins per account (user id, or a digest of an unknown identifier) in the current window; read by app_public.login, written by app_private.record_login_failure.';

--
-- Name: payment_events; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.payment_events (
    provider text NOT NULL,
    event_id text NOT NULL,
    user_id uuid NOT NULL,
    coins integer NOT NULL,
    amount_cents integer,
    currency text,
    payload jsonb NOT NULL,
    coin_transaction_id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payment_events_amount_cents_check CHECK ((amount_cents >= 0)),
    CONSTRAINT payment_events_coins_check CHECK ((coins > 0)),
    CONSTRAINT payment_events_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT payment_events_event_id_check CHECK (((char_length(event_id) >= 1) AND (char_length(event_id) <= 200))),
    CONSTRAINT payment_events_provider_check CHECK ((provider ~ '^[a-z][a-z0-9_-]{1,30}$'::text))
);

--
-- Name: TABLE payment_events; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.payment_events IS 'Coin purchases reported by the payment provider''s webhook; one row per provider event.';

--
-- Name: playback_failure_reports; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.playback_failure_reports (
    id bigint NOT NULL,
    stream_id uuid NOT NULL,
    path text NOT NULL,
    url text,
    reason text,
    reporter_id uuid,
    reported_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT playback_failure_reports_path_check CHECK ((path = ANY (ARRAY['hls'::text, 'stage'::text])))
);

--
-- Name: TABLE playback_failure_reports; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.playback_failure_reports IS 'Playback failures reported by players (fatal HLS error, 404, stage failure).';

--
-- Name: playback_failure_reports_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.playback_failure_reports ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.playback_failure_reports_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: playback_settings; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.playback_settings (
    id boolean DEFAULT true NOT NULL,
    mux_base_url text DEFAULT 'https://stream.mux.com'::text NOT NULL,
    origin_base_url text,
    cdn_base_url text,
    origin_path_template text DEFAULT '/live/{stream_id}/index.m3u8'::text NOT NULL,
    viral_enter_viewers integer DEFAULT 1000 NOT NULL,
    viral_exit_viewers integer DEFAULT 500 NOT NULL,
    retry_base_seconds integer DEFAULT 15 NOT NULL,
    retry_max_seconds integer DEFAULT 300 NOT NULL,
    verify_after_failures integer DEFAULT 20 NOT NULL,
    egress_target text,
    CONSTRAINT playback_settings_cdn_base_url_check CHECK ((cdn_base_url ~ '^https?://[^\s/?#]+(/[^\s?#]*[^\s?#/])?$'::text)),
    CONSTRAINT playback_settings_check CHECK ((viral_exit_viewers < viral_enter_viewers)),
    CONSTRAINT playback_settings_check1 CHECK ((retry_base_seconds <= retry_max_seconds)),
    CONSTRAINT playback_settings_egress_target_check CHECK ((egress_target = ANY (ARRAY['mux'::text, 'origin'::text]))),
    CONSTRAINT playback_settings_id_check CHECK (id),
    CONSTRAINT playback_settings_mux_base_url_check CHECK ((mux_base_url ~ '^https?://[^\s/?#]+$'::text)),
    CONSTRAINT playback_settings_origin_base_url_check CHECK ((origin_base_url ~ '^https?://[^\s/?#]+(/[^\s?#]*[^\s?#/])?$'::text)),
    CONSTRAINT playback_settings_origin_path_template_check CHECK ((origin_path_template ~ '^/[^\s?#]*\.m3u8$'::text)),
    CONSTRAINT playback_settings_retry_base_seconds_check CHECK (((retry_base_seconds >= 1) AND (retry_base_seconds <= 3600))),
    CONSTRAINT playback_settings_retry_max_seconds_check CHECK (((retry_max_seconds >= 1) AND (retry_max_seconds <= 86400))),
    CONSTRAINT playback_settings_verify_after_failures_check CHECK ((verify_after_failures > 0)),
    CONSTRAINT playback_settings_viral_enter_viewers_check CHECK ((viral_enter_viewers > 0)),
    CONSTRAINT playback_settings_viral_exit_viewers_check CHECK ((viral_exit_viewers >= 0))
);

--
-- Name: TABLE playback_settings; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.playback_settings IS 'Playback configuration (one row). cdn_base_url is a pull zone whose origin is origin_base_url: a CDN URL is its host + the stream''s origin path.';

--
-- Name: COLUMN playback_settings.viral_enter_viewers; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.playback_settings.viral_enter_viewers IS 'Viewer count at or above which a stream asks to switch to HLS.';

--
-- Name: COLUMN playback_settings.viral_exit_viewers; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.playback_settings.viral_exit_viewers IS 'Viewer count below which a stream switched by threshold asks to switch back to the stage (hysteresis).';

--
-- Name: COLUMN playback_settings.verify_after_failures; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.playback_settings.verify_after_failures IS 'HLS failure reports within a minute that trigger a re-check of a stream already on HLS.';

--
-- Name: COLUMN playback_settings.egress_target; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.playback_settings.egress_target IS 'Where a LiveKit egress sends a stream without its own HLS source when it goes viral: mux (RTMP to a Mux live stream) or origin (HLS segments); null: no egress. Set at start from the configuration.';

--
-- Name: presence_counts; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.presence_counts (
    node_id text NOT NULL,
    stream_id uuid NOT NULL,
    viewers integer NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT presence_counts_viewers_check CHECK ((viewers >= 0))
);

--
-- Name: TABLE presence_counts; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.presence_counts IS 'Live connections per Node process and stream (broadcast sockets + streamEvents subscriptions). Rows not refreshed for 15 s belong to a dead process and are ignored, then deleted.';

--
-- Name: relay_state; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.relay_state (
    id boolean DEFAULT true NOT NULL,
    counts_at timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL,
    pruned_at timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL,
    CONSTRAINT relay_state_id_check CHECK (id)
);

--
-- Name: TABLE relay_state; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.relay_state IS 'When the relay last published viewer counts and pruned the outbox (UNLOGGED, one row: emptied by crash recovery and re-created by publish_viewer_counts and prune_stream_events themselves).';

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

COMMENT ON TABLE app_private.settings IS 'Server-written configuration (JWT secret, audience, token lifetime) and the operator tunables (gift fee and batch size, chat rate, burst and length, slow-mode and seat-cap bounds, stage invitation lifetime, gift quantity cap, retention): see db/README.md. Never exposed.';

--
-- Name: stream_egresses; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.stream_egresses (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    stream_id uuid NOT NULL,
    target text NOT NULL,
    state text DEFAULT 'requested'::text NOT NULL,
    egress_id text,
    mux_live_stream_id text,
    mux_playback_id text,
    attempts integer DEFAULT 0 NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    last_error text,
    last_failed_at timestamp with time zone,
    next_attempt_at timestamp with time zone,
    stop_reason text,
    started_at timestamp with time zone,
    active_at timestamp with time zone,
    ended_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_egresses_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT stream_egresses_consecutive_failures_check CHECK ((consecutive_failures >= 0)),
    CONSTRAINT stream_egresses_failures_check CHECK ((failures >= 0)),
    CONSTRAINT stream_egresses_mux_playback_id_check CHECK ((mux_playback_id ~ '^[A-Za-z0-9]{1,64}$'::text)),
    CONSTRAINT stream_egresses_state_check CHECK ((state = ANY (ARRAY['requested'::text, 'starting'::text, 'active'::text, 'retrying'::text, 'stopping'::text, 'stopped'::text, 'failed'::text]))),
    CONSTRAINT stream_egresses_target_check CHECK ((target = ANY (ARRAY['mux'::text, 'origin'::text])))
);

--
-- Name: TABLE stream_egresses; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stream_egresses IS 'LiveKit egresses of streams that went viral: one row per egress, its state (requested, starting, active, retrying, stopping, stopped, failed), failures (in all; consecutive ones set the backoff) and the Mux live stream it feeds.';

--
-- Name: stream_event_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

CREATE SEQUENCE app_private.stream_event_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

--
-- Name: stream_events; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.stream_events (
    id bigint NOT NULL,
    stream_id uuid NOT NULL,
    kind app_private.stream_event_kind NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    seq bigint
);

--
-- Name: TABLE stream_events; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stream_events IS 'Outbox of stream events, drained by the relay into one NOTIFY per stream per tick. Payloads are self-contained.';

--
-- Name: COLUMN stream_events.seq; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.stream_events.seq IS 'Delivery number assigned by the relay (null until relayed); the id clients resume from.';

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
-- Name: stream_playback; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.stream_playback (
    stream_id uuid NOT NULL,
    hls_provider text,
    mux_playback_id text,
    origin_path text,
    mode text DEFAULT 'stage'::text NOT NULL,
    mode_reason text,
    pinned boolean DEFAULT false NOT NULL,
    switched_at timestamp with time zone,
    pending text,
    pending_reason text,
    requested_by uuid,
    requested_at timestamp with time zone,
    check_due_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    last_check_at timestamp with time zone,
    last_check_ok boolean,
    last_check_url text,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stream_playback_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT stream_playback_check CHECK (((hls_provider IS DISTINCT FROM 'mux'::text) OR (mux_playback_id IS NOT NULL))),
    CONSTRAINT stream_playback_check1 CHECK (((pending IS NULL) = (check_due_at IS NULL))),
    CONSTRAINT stream_playback_check2 CHECK (((pending IS NULL) = (pending_reason IS NULL))),
    CONSTRAINT stream_playback_hls_provider_check CHECK ((hls_provider = ANY (ARRAY['mux'::text, 'cdn'::text, 'origin'::text]))),
    CONSTRAINT stream_playback_mode_check CHECK ((mode = ANY (ARRAY['stage'::text, 'hls'::text]))),
    CONSTRAINT stream_playback_mode_reason_check CHECK ((mode_reason = ANY (ARRAY['threshold'::text, 'request'::text]))),
    CONSTRAINT stream_playback_mux_playback_id_check CHECK ((mux_playback_id ~ '^[A-Za-z0-9]{1,64}$'::text)),
    CONSTRAINT stream_playback_origin_path_check CHECK ((origin_path ~ '^/[^\s?#]*\.m3u8$'::text)),
    CONSTRAINT stream_playback_pending_check CHECK ((pending = ANY (ARRAY['to_hls'::text, 'to_stage'::text, 'verify'::text]))),
    CONSTRAINT stream_playback_pending_reason_check CHECK ((pending_reason = ANY (ARRAY['threshold'::text, 'request'::text, 'failures'::text, 'config'::text])))
);

--
-- Name: TABLE stream_playback; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stream_playback IS 'Per stream: HLS source (provider and ids) and viral-mode state (mode stage|hls, one pending transition, last check).';

--
-- Name: COLUMN stream_playback.pinned; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.stream_playback.pinned IS 'Set by a broadcaster/admin request: thresholds leave the mode alone until a request for auto.';

--
-- Name: stream_viewer_counts; Type: TABLE; Schema: app_private; Owner: -
--

CREATE UNLOGGED TABLE app_private.stream_viewer_counts (
    stream_id uuid NOT NULL,
    viewers integer NOT NULL,
    published_at timestamp with time zone NOT NULL
);

--
-- Name: TABLE stream_viewer_counts; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stream_viewer_counts IS 'The last viewer_count event published per stream (at most one per second).';

--
-- Name: stripe_events; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.stripe_events (
    event_id text NOT NULL,
    type text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stripe_events_event_id_check CHECK (((char_length(event_id) >= 1) AND (char_length(event_id) <= 200)))
);

--
-- Name: TABLE stripe_events; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.stripe_events IS 'Stripe webhook events already handled (idempotency on the event id).';

--
-- Name: user_identities; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.user_identities (
    user_id uuid NOT NULL,
    role app_public.app_role NOT NULL,
    is_banned boolean NOT NULL,
    sender jsonb NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    restricted_in uuid[] DEFAULT '{}'::uuid[] NOT NULL
);

--
-- Name: TABLE user_identities; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.user_identities IS 'Denormalised sender data (id, username, display name, avatar, role, vehicle status) embedded in every chat event; kept current by a trigger on users, read by primary key on the hot path.';

--
-- Name: COLUMN user_identities.restricted_in; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON COLUMN app_private.user_identities.restricted_in IS 'Streams in which the user has (or had) a mute or ban row: a superset kept by triggers, so send_chat_message looks up mutes and bans only there.';

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
-- Name: wallet_debts; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.wallet_debts (
    id bigint NOT NULL,
    user_id uuid NOT NULL,
    outstanding bigint NOT NULL,
    original bigint NOT NULL,
    reason text NOT NULL,
    reference text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    settled_at timestamp with time zone,
    CONSTRAINT wallet_debts_check CHECK (((original > 0) AND (outstanding <= original))),
    CONSTRAINT wallet_debts_outstanding_check CHECK ((outstanding >= 0))
);

--
-- Name: TABLE wallet_debts; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.wallet_debts IS 'Coins owed after a refund or chargeback found the balance short; settled from the user''s next purchases first.';

--
-- Name: wallet_debts_id_seq; Type: SEQUENCE; Schema: app_private; Owner: -
--

ALTER TABLE app_private.wallet_debts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_private.wallet_debts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: wallets; Type: TABLE; Schema: app_private; Owner: -
--

CREATE TABLE app_private.wallets (
    user_id uuid NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT wallets_balance_check CHECK ((balance >= 0))
);

--
-- Name: TABLE wallets; Type: COMMENT; Schema: app_private; Owner: -
--

COMMENT ON TABLE app_private.wallets IS 'Spendable coins per user. Never negative (constraint). Written only by send_gift (the sender''s own row), settlement and coin issuing; read through my_wallet().';

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
-- Name: broadcaster_gifter_stats; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.broadcaster_gifter_stats (
    broadcaster_id uuid NOT NULL,
    gifter_id uuid NOT NULL,
    coins bigint DEFAULT 0 NOT NULL,
    gifts bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app_public.broadcaster_gifter_stats FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE broadcaster_gifter_stats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.broadcaster_gifter_stats IS 'Coins each gifter has spent on one broadcaster, all time (settled gifts), materialised by settlement.';

--
-- Name: gift_batch_logs_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.gift_batch_logs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME app_public.gift_batch_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: gifter_stats; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.gifter_stats (
    gifter_id uuid NOT NULL,
    period text NOT NULL,
    period_start timestamp with time zone NOT NULL,
    coins bigint DEFAULT 0 NOT NULL,
    gifts bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT gifter_stats_check CHECK ((period_start = app_public.period_start(period, period_start))),
    CONSTRAINT gifter_stats_period_check CHECK ((period = ANY (ARRAY['day'::text, 'week'::text, 'month'::text, 'all_time'::text])))
);

ALTER TABLE ONLY app_public.gifter_stats FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE gifter_stats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.gifter_stats IS 'Coins spent per gifter per period bucket (day, week, month, all_time; UTC), materialised by settlement (settled gifts, minus reversals). The gifter leaderboard reads only this.';

--
-- Name: gifts; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.gifts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    coin_price integer NOT NULL,
    art_url text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    sort_order integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT gifts_art_url_check CHECK ((art_url ~ '^(https?://|/)[^\s]+$'::text)),
    CONSTRAINT gifts_coin_price_check CHECK (((coin_price >= 1) AND (coin_price <= 1000000))),
    CONSTRAINT gifts_name_check CHECK (((char_length(name) >= 1) AND (char_length(name) <= 40))),
    CONSTRAINT gifts_name_clean CHECK (app_hidden.is_clean_line(name)),
    CONSTRAINT gifts_slug_check CHECK ((slug ~ '^[a-z][a-z0-9_-]{1,39}$'::text))
);

ALTER TABLE ONLY app_public.gifts FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE gifts; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.gifts IS 'Gift catalogue: what viewers can send and what it costs. Prices come only from here.';

--
-- Name: COLUMN gifts.slug; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.slug IS 'Stable short name (lowercase letters, digits, - and _).';

--
-- Name: COLUMN gifts.name; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.name IS 'Name shown in the gift panel and on the animation.';

--
-- Name: COLUMN gifts.coin_price; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.coin_price IS 'Price of one gift in coins.';

--
-- Name: COLUMN gifts.art_url; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.art_url IS 'Image/animation URL (absolute http(s) or a site path).';

--
-- Name: COLUMN gifts.active; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.active IS 'Inactive gifts stay in the catalogue for history but cannot be sent.';

--
-- Name: COLUMN gifts.sort_order; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.gifts.sort_order IS 'Position in the gift panel.';

--
-- Name: moderation_actions; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.moderation_actions (
    id bigint NOT NULL,
    stream_id uuid,
    actor_id uuid,
    action text NOT NULL,
    target_user_id uuid,
    reason text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT moderation_actions_action_check CHECK ((action = ANY (ARRAY['mute'::text, 'unmute'::text, 'ban'::text, 'unban'::text, 'delete_message'::text, 'slow_mode'::text, 'site_ban'::text, 'site_unban'::text]))),
    CONSTRAINT moderation_actions_reason_check CHECK ((char_length(reason) <= 500)),
    CONSTRAINT moderation_actions_reason_clean CHECK (app_hidden.is_clean_line(reason)),
    CONSTRAINT moderation_actions_site_check CHECK (((stream_id IS NULL) = (action = ANY (ARRAY['site_ban'::text, 'site_unban'::text]))))
);

ALTER TABLE ONLY app_public.moderation_actions FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE moderation_actions; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.moderation_actions IS 'Moderation log of a stream (append-only, written by the moderation functions); readable by its broadcaster and moderators.';

--
-- Name: moderation_actions_id_seq; Type: SEQUENCE; Schema: app_public; Owner: -
--

ALTER TABLE app_public.moderation_actions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app_public.moderation_actions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: playback_health; Type: VIEW; Schema: app_public; Owner: -
--

CREATE VIEW app_public.playback_health WITH (security_invoker='true') AS
 SELECT h.stream_id,
    h.title,
    h.status,
    h.hls_provider,
    h.mode,
    h.pending,
    h.pending_reason,
    h.attempts,
    h.check_due_at,
    h.last_check_at,
    h.last_check_ok,
    h.last_check_url,
    h.last_error,
    h.alerting,
    h.failure_reports,
    h.failure_reports_5m
   FROM app_hidden.playback_health_rows() h(stream_id, title, status, hls_provider, mode, pending, pending_reason, attempts, check_due_at, last_check_at, last_check_ok, last_check_url, last_error, alerting, failure_reports, failure_reports_5m);

--
-- Name: VIEW playback_health; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON VIEW app_public.playback_health IS 'Admins (every stream) and each broadcaster (their own streams): playback state per stream, last health check and why it failed (alerting), failure reports from players.';

--
-- Name: COLUMN playback_health.alerting; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON COLUMN app_public.playback_health.alerting IS 'The last health check failed: viewers were kept on the current path; the worker retries.';

--
-- Name: stream_gifter_stats; Type: TABLE; Schema: app_public; Owner: -
--

CREATE TABLE app_public.stream_gifter_stats (
    stream_id uuid NOT NULL,
    gifter_id uuid NOT NULL,
    coins bigint DEFAULT 0 NOT NULL,
    gifts bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY app_public.stream_gifter_stats FORCE ROW LEVEL SECURITY;

--
-- Name: TABLE stream_gifter_stats; Type: COMMENT; Schema: app_public; Owner: -
--

COMMENT ON TABLE app_public.stream_gifter_stats IS 'Coins each gifter has spent in one stream (settled gifts), materialised by settlement.';

--
-- Name: chat_messages chat_messages_body_clean; Type: CHECK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE app_private.chat_messages
    ADD CONSTRAINT chat_messages_body_clean CHECK (app_hidden.is_clean_line(body)) NOT VALID;

--
-- Name: chat_messages chat_messages_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_messages
    ADD CONSTRAINT chat_messages_pkey PRIMARY KEY (id);

--
-- Name: chat_rate_buckets chat_rate_buckets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_rate_buckets
    ADD CONSTRAINT chat_rate_buckets_pkey PRIMARY KEY (user_id);

--
-- Name: chat_slow_mode chat_slow_mode_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_slow_mode
    ADD CONSTRAINT chat_slow_mode_pkey PRIMARY KEY (stream_id, user_id);

--
-- Name: chat_transcript chat_transcript_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_transcript
    ADD CONSTRAINT chat_transcript_pkey PRIMARY KEY (id);

--
-- Name: checkout_sessions checkout_sessions_payment_intent_key; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.checkout_sessions
    ADD CONSTRAINT checkout_sessions_payment_intent_key UNIQUE (payment_intent);

--
-- Name: checkout_sessions checkout_sessions_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.checkout_sessions
    ADD CONSTRAINT checkout_sessions_pkey PRIMARY KEY (id);

--
-- Name: coin_transactions coin_transactions_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.coin_transactions
    ADD CONSTRAINT coin_transactions_pkey PRIMARY KEY (id);

--
-- Name: gift_batch_items gift_batch_items_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_batch_items
    ADD CONSTRAINT gift_batch_items_pkey PRIMARY KEY (batch_id, outcome);

--
-- Name: gift_ledger gift_ledger_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_ledger
    ADD CONSTRAINT gift_ledger_pkey PRIMARY KEY (id);

--
-- Name: gift_settlement_queue gift_settlement_queue_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_settlement_queue
    ADD CONSTRAINT gift_settlement_queue_pkey PRIMARY KEY (gift_ledger_id);

--
-- Name: hls_checks hls_checks_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.hls_checks
    ADD CONSTRAINT hls_checks_pkey PRIMARY KEY (id);

--
-- Name: livekit_anon_buckets livekit_anon_buckets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.livekit_anon_buckets
    ADD CONSTRAINT livekit_anon_buckets_pkey PRIMARY KEY (client_addr);

--
-- Name: livekit_enforcements livekit_enforcements_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.livekit_enforcements
    ADD CONSTRAINT livekit_enforcements_pkey PRIMARY KEY (stream_id, user_id);

--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (account);

--
-- Name: payment_events payment_events_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.payment_events
    ADD CONSTRAINT payment_events_pkey PRIMARY KEY (provider, event_id);

--
-- Name: playback_failure_reports playback_failure_reports_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.playback_failure_reports
    ADD CONSTRAINT playback_failure_reports_pkey PRIMARY KEY (id);

--
-- Name: playback_settings playback_settings_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.playback_settings
    ADD CONSTRAINT playback_settings_pkey PRIMARY KEY (id);

--
-- Name: presence_counts presence_counts_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.presence_counts
    ADD CONSTRAINT presence_counts_pkey PRIMARY KEY (node_id, stream_id);

--
-- Name: relay_state relay_state_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.relay_state
    ADD CONSTRAINT relay_state_pkey PRIMARY KEY (id);

--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (key);

--
-- Name: stream_egresses stream_egresses_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_egresses
    ADD CONSTRAINT stream_egresses_pkey PRIMARY KEY (id);

--
-- Name: stream_events stream_events_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_events
    ADD CONSTRAINT stream_events_pkey PRIMARY KEY (id);

--
-- Name: stream_playback stream_playback_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_playback
    ADD CONSTRAINT stream_playback_pkey PRIMARY KEY (stream_id);

--
-- Name: stream_viewer_counts stream_viewer_counts_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_viewer_counts
    ADD CONSTRAINT stream_viewer_counts_pkey PRIMARY KEY (stream_id);

--
-- Name: stripe_events stripe_events_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stripe_events
    ADD CONSTRAINT stripe_events_pkey PRIMARY KEY (event_id);

--
-- Name: user_identities user_identities_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_identities
    ADD CONSTRAINT user_identities_pkey PRIMARY KEY (user_id);

--
-- Name: user_secrets user_secrets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_secrets
    ADD CONSTRAINT user_secrets_pkey PRIMARY KEY (user_id);

--
-- Name: wallet_debts wallet_debts_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.wallet_debts
    ADD CONSTRAINT wallet_debts_pkey PRIMARY KEY (id);

--
-- Name: wallet_debts wallet_debts_reference_key; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.wallet_debts
    ADD CONSTRAINT wallet_debts_reference_key UNIQUE (reference);

--
-- Name: wallets wallets_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.wallets
    ADD CONSTRAINT wallets_pkey PRIMARY KEY (user_id);

--
-- Name: worker_heartbeats worker_heartbeats_pkey; Type: CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.worker_heartbeats
    ADD CONSTRAINT worker_heartbeats_pkey PRIMARY KEY (worker_id);

--
-- Name: broadcaster_gifter_stats broadcaster_gifter_stats_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.broadcaster_gifter_stats
    ADD CONSTRAINT broadcaster_gifter_stats_pkey PRIMARY KEY (broadcaster_id, gifter_id);

--
-- Name: broadcaster_stats broadcaster_stats_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.broadcaster_stats
    ADD CONSTRAINT broadcaster_stats_pkey PRIMARY KEY (period, period_start, broadcaster_id);

--
-- Name: coin_packs coin_packs_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.coin_packs
    ADD CONSTRAINT coin_packs_pkey PRIMARY KEY (id);

--
-- Name: coin_packs coin_packs_slug_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.coin_packs
    ADD CONSTRAINT coin_packs_slug_key UNIQUE (slug);

--
-- Name: gift_batch_logs gift_batch_logs_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.gift_batch_logs
    ADD CONSTRAINT gift_batch_logs_pkey PRIMARY KEY (id);

--
-- Name: gifter_stats gifter_stats_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.gifter_stats
    ADD CONSTRAINT gifter_stats_pkey PRIMARY KEY (period, period_start, gifter_id);

--
-- Name: gifts gifts_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.gifts
    ADD CONSTRAINT gifts_pkey PRIMARY KEY (id);

--
-- Name: gifts gifts_slug_key; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.gifts
    ADD CONSTRAINT gifts_slug_key UNIQUE (slug);

--
-- Name: moderation_actions moderation_actions_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.moderation_actions
    ADD CONSTRAINT moderation_actions_pkey PRIMARY KEY (id);

--
-- Name: stream_bans stream_bans_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_bans
    ADD CONSTRAINT stream_bans_pkey PRIMARY KEY (stream_id, user_id);

--
-- Name: stream_gifter_stats stream_gifter_stats_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_gifter_stats
    ADD CONSTRAINT stream_gifter_stats_pkey PRIMARY KEY (stream_id, gifter_id);

--
-- Name: stream_mutes stream_mutes_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_mutes
    ADD CONSTRAINT stream_mutes_pkey PRIMARY KEY (stream_id, user_id);

--
-- Name: stream_seat_requests stream_seat_requests_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seat_requests
    ADD CONSTRAINT stream_seat_requests_pkey PRIMARY KEY (stream_id, user_id);

--
-- Name: stream_seats stream_seats_pkey; Type: CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seats
    ADD CONSTRAINT stream_seats_pkey PRIMARY KEY (id);

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
-- Name: chat_messages_stream_id_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX chat_messages_stream_id_id_idx ON app_private.chat_messages USING btree (stream_id, id);

--
-- Name: chat_transcript_created_at_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX chat_transcript_created_at_idx ON app_private.chat_transcript USING btree (created_at);

--
-- Name: chat_transcript_deleted_by_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX chat_transcript_deleted_by_idx ON app_private.chat_transcript USING btree (deleted_by);

--
-- Name: chat_transcript_sender_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX chat_transcript_sender_id_idx ON app_private.chat_transcript USING btree (sender_id);

--
-- Name: chat_transcript_stream_id_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX chat_transcript_stream_id_id_idx ON app_private.chat_transcript USING btree (stream_id, id);

--
-- Name: checkout_sessions_pack_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX checkout_sessions_pack_id_idx ON app_private.checkout_sessions USING btree (pack_id);

--
-- Name: checkout_sessions_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX checkout_sessions_user_id_idx ON app_private.checkout_sessions USING btree (user_id);

--
-- Name: coin_transactions_credit_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX coin_transactions_credit_user_id_idx ON app_private.coin_transactions USING btree (credit_user_id) WHERE (credit_user_id IS NOT NULL);

--
-- Name: coin_transactions_debit_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX coin_transactions_debit_user_id_idx ON app_private.coin_transactions USING btree (debit_user_id) WHERE (debit_user_id IS NOT NULL);

--
-- Name: coin_transactions_gift_ledger_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX coin_transactions_gift_ledger_id_idx ON app_private.coin_transactions USING btree (gift_ledger_id) WHERE (gift_ledger_id IS NOT NULL);

--
-- Name: coin_transactions_kind_reference_key; Type: INDEX; Schema: app_private; Owner: -
--

CREATE UNIQUE INDEX coin_transactions_kind_reference_key ON app_private.coin_transactions USING btree (kind, reference) WHERE (reference IS NOT NULL);

--
-- Name: gift_batch_items_gift_ids_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX gift_batch_items_gift_ids_idx ON app_private.gift_batch_items USING gist (gift_ids);

--
-- Name: gift_ledger_gift_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX gift_ledger_gift_id_idx ON app_private.gift_ledger USING btree (gift_id);

--
-- Name: gift_ledger_idempotency_key; Type: INDEX; Schema: app_private; Owner: -
--

CREATE UNIQUE INDEX gift_ledger_idempotency_key ON app_private.gift_ledger USING btree (sender_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

--
-- Name: gift_ledger_receiver_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX gift_ledger_receiver_id_idx ON app_private.gift_ledger USING btree (receiver_id, id);

--
-- Name: gift_ledger_sender_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX gift_ledger_sender_id_idx ON app_private.gift_ledger USING btree (sender_id, id);

--
-- Name: gift_ledger_stream_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX gift_ledger_stream_id_idx ON app_private.gift_ledger USING btree (stream_id, id);

--
-- Name: hls_checks_stream_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX hls_checks_stream_id_idx ON app_private.hls_checks USING btree (stream_id, checked_at DESC);

--
-- Name: livekit_enforcements_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX livekit_enforcements_user_id_idx ON app_private.livekit_enforcements USING btree (user_id);

--
-- Name: login_failures_window_start_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX login_failures_window_start_idx ON app_private.login_failures USING btree (window_start);

--
-- Name: payment_events_coin_transaction_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX payment_events_coin_transaction_id_idx ON app_private.payment_events USING btree (coin_transaction_id);

--
-- Name: payment_events_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX payment_events_user_id_idx ON app_private.payment_events USING btree (user_id);

--
-- Name: playback_failure_reports_stream_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX playback_failure_reports_stream_idx ON app_private.playback_failure_reports USING btree (stream_id, reported_at);

--
-- Name: presence_counts_stream_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX presence_counts_stream_id_idx ON app_private.presence_counts USING btree (stream_id);

--
-- Name: stream_egresses_one_open_per_stream; Type: INDEX; Schema: app_private; Owner: -
--

CREATE UNIQUE INDEX stream_egresses_one_open_per_stream ON app_private.stream_egresses USING btree (stream_id) WHERE (state = ANY (ARRAY['requested'::text, 'starting'::text, 'active'::text, 'retrying'::text]));

--
-- Name: stream_egresses_stream_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_egresses_stream_id_idx ON app_private.stream_egresses USING btree (stream_id, created_at DESC);

--
-- Name: stream_events_created_at_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_events_created_at_idx ON app_private.stream_events USING btree (created_at);

--
-- Name: stream_events_pending_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_events_pending_idx ON app_private.stream_events USING btree (id) WHERE (seq IS NULL);

--
-- Name: stream_events_stream_id_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_events_stream_id_id_idx ON app_private.stream_events USING btree (stream_id, id);

--
-- Name: stream_events_stream_id_seq_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_events_stream_id_seq_idx ON app_private.stream_events USING btree (stream_id, seq) WHERE (seq IS NOT NULL);

--
-- Name: stream_playback_check_due_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_playback_check_due_idx ON app_private.stream_playback USING btree (check_due_at) WHERE (check_due_at IS NOT NULL);

--
-- Name: stream_playback_requested_by_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX stream_playback_requested_by_idx ON app_private.stream_playback USING btree (requested_by);

--
-- Name: user_secrets_email_lower_key; Type: INDEX; Schema: app_private; Owner: -
--

CREATE UNIQUE INDEX user_secrets_email_lower_key ON app_private.user_secrets USING btree (lower(email));

--
-- Name: wallet_debts_open_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX wallet_debts_open_idx ON app_private.wallet_debts USING btree (user_id, created_at) WHERE (outstanding > 0);

--
-- Name: wallet_debts_user_id_idx; Type: INDEX; Schema: app_private; Owner: -
--

CREATE INDEX wallet_debts_user_id_idx ON app_private.wallet_debts USING btree (user_id);

--
-- Name: broadcaster_gifter_stats_gifter_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX broadcaster_gifter_stats_gifter_id_idx ON app_public.broadcaster_gifter_stats USING btree (gifter_id);

--
-- Name: broadcaster_gifter_stats_top_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX broadcaster_gifter_stats_top_idx ON app_public.broadcaster_gifter_stats USING btree (broadcaster_id, coins DESC, gifter_id);

--
-- Name: broadcaster_stats_broadcaster_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX broadcaster_stats_broadcaster_id_idx ON app_public.broadcaster_stats USING btree (broadcaster_id);

--
-- Name: broadcaster_stats_leaderboard_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX broadcaster_stats_leaderboard_idx ON app_public.broadcaster_stats USING btree (period, period_start, coins DESC, broadcaster_id);

--
-- Name: coin_packs_sort_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX coin_packs_sort_idx ON app_public.coin_packs USING btree (sort);

--
-- Name: gift_batch_logs_started_at_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX gift_batch_logs_started_at_idx ON app_public.gift_batch_logs USING btree (started_at);

--
-- Name: gifter_stats_gifter_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX gifter_stats_gifter_id_idx ON app_public.gifter_stats USING btree (gifter_id);

--
-- Name: gifter_stats_leaderboard_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX gifter_stats_leaderboard_idx ON app_public.gifter_stats USING btree (period, period_start, coins DESC, gifter_id);

--
-- Name: gifts_active_sort_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX gifts_active_sort_idx ON app_public.gifts USING btree (sort_order, coin_price) WHERE active;

--
-- Name: moderation_actions_actor_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX moderation_actions_actor_id_idx ON app_public.moderation_actions USING btree (actor_id);

--
-- Name: moderation_actions_stream_id_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX moderation_actions_stream_id_id_idx ON app_public.moderation_actions USING btree (stream_id, id);

--
-- Name: moderation_actions_target_user_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX moderation_actions_target_user_id_idx ON app_public.moderation_actions USING btree (target_user_id);

--
-- Name: stream_bans_banned_by_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_bans_banned_by_idx ON app_public.stream_bans USING btree (banned_by);

--
-- Name: stream_bans_user_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_bans_user_id_idx ON app_public.stream_bans USING btree (user_id);

--
-- Name: stream_gifter_stats_gifter_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_gifter_stats_gifter_id_idx ON app_public.stream_gifter_stats USING btree (gifter_id);

--
-- Name: stream_gifter_stats_top_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_gifter_stats_top_idx ON app_public.stream_gifter_stats USING btree (stream_id, coins DESC, gifter_id);

--
-- Name: stream_mutes_muted_by_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_mutes_muted_by_idx ON app_public.stream_mutes USING btree (muted_by);

--
-- Name: stream_mutes_user_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_mutes_user_id_idx ON app_public.stream_mutes USING btree (user_id);

--
-- Name: stream_seat_requests_user_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_seat_requests_user_id_idx ON app_public.stream_seat_requests USING btree (user_id);

--
-- Name: stream_seats_ended_by_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_seats_ended_by_idx ON app_public.stream_seats USING btree (ended_by);

--
-- Name: stream_seats_invited_by_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_seats_invited_by_idx ON app_public.stream_seats USING btree (invited_by);

--
-- Name: stream_seats_open_slot_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX stream_seats_open_slot_key ON app_public.stream_seats USING btree (stream_id, slot) WHERE (status = ANY (ARRAY['invited'::text, 'active'::text]));

--
-- Name: stream_seats_open_user_key; Type: INDEX; Schema: app_public; Owner: -
--

CREATE UNIQUE INDEX stream_seats_open_user_key ON app_public.stream_seats USING btree (stream_id, user_id) WHERE (status = ANY (ARRAY['invited'::text, 'active'::text]));

--
-- Name: stream_seats_stream_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_seats_stream_id_idx ON app_public.stream_seats USING btree (stream_id);

--
-- Name: stream_seats_user_id_idx; Type: INDEX; Schema: app_public; Owner: -
--

CREATE INDEX stream_seats_user_id_idx ON app_public.stream_seats USING btree (user_id);

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
-- Name: stream_egresses _100_timestamps; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_private.stream_egresses FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: stream_playback _100_timestamps; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_private.stream_playback FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: coin_transactions _200_append_only; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only BEFORE DELETE OR UPDATE ON app_private.coin_transactions FOR EACH ROW EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_batch_items _200_append_only; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only BEFORE DELETE OR UPDATE ON app_private.gift_batch_items FOR EACH ROW EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_ledger _200_append_only; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only BEFORE UPDATE ON app_private.gift_ledger FOR EACH ROW EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: payment_events _200_append_only; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only BEFORE DELETE OR UPDATE ON app_private.payment_events FOR EACH ROW EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_ledger _200_append_only_delete; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only_delete BEFORE DELETE ON app_private.gift_ledger FOR EACH ROW EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: coin_transactions _200_append_only_truncate; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only_truncate BEFORE TRUNCATE ON app_private.coin_transactions FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_batch_items _200_append_only_truncate; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only_truncate BEFORE TRUNCATE ON app_private.gift_batch_items FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_ledger _200_append_only_truncate; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _200_append_only_truncate BEFORE TRUNCATE ON app_private.gift_ledger FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg__append_only();

--
-- Name: gift_ledger _300_queue_for_settlement; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _300_queue_for_settlement AFTER INSERT ON app_private.gift_ledger REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app_private.tg_gift_ledger__queue();

--
-- Name: stream_playback _500_egress; Type: TRIGGER; Schema: app_private; Owner: -
--

CREATE TRIGGER _500_egress BEFORE UPDATE OF pending, mode ON app_private.stream_playback FOR EACH ROW EXECUTE FUNCTION app_private.tg_stream_playback__egress();

--
-- Name: gifts _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.gifts FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: stream_seats _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.stream_seats FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: streams _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.streams FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: users _100_timestamps; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _100_timestamps BEFORE INSERT OR UPDATE ON app_public.users FOR EACH ROW EXECUTE FUNCTION app_private.tg__timestamps();

--
-- Name: users _200_clean_text; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _200_clean_text BEFORE INSERT OR UPDATE OF display_name, vehicle_status, avatar_url ON app_public.users FOR EACH ROW EXECUTE FUNCTION app_private.tg_users__clean_text();

--
-- Name: stream_bans _500_chat_restriction_hint; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_chat_restriction_hint AFTER INSERT OR UPDATE OF stream_id, user_id ON app_public.stream_bans FOR EACH ROW EXECUTE FUNCTION app_private.tg__chat_restriction_hint();

--
-- Name: stream_mutes _500_chat_restriction_hint; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_chat_restriction_hint AFTER INSERT OR UPDATE OF stream_id, user_id ON app_public.stream_mutes FOR EACH ROW EXECUTE FUNCTION app_private.tg__chat_restriction_hint();

--
-- Name: streams _500_end_seats; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_end_seats AFTER UPDATE OF status ON app_public.streams FOR EACH ROW WHEN (((new.status = 'ended'::text) AND (old.status IS DISTINCT FROM 'ended'::text))) EXECUTE FUNCTION app_private.tg_streams__end_seats();

--
-- Name: users _500_identity; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _500_identity AFTER INSERT OR UPDATE OF username, display_name, avatar_url, role, is_banned, vehicle_status ON app_public.users FOR EACH ROW EXECUTE FUNCTION app_private.tg_users__identity();

--
-- Name: streams _510_livekit_room; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _510_livekit_room AFTER INSERT ON app_public.streams FOR EACH ROW WHEN ((new.status = 'live'::text)) EXECUTE FUNCTION app_private.tg_streams__livekit_room();

--
-- Name: streams _510_livekit_room_end; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _510_livekit_room_end AFTER UPDATE OF status ON app_public.streams FOR EACH ROW WHEN (((new.status = 'ended'::text) AND (old.status IS DISTINCT FROM 'ended'::text))) EXECUTE FUNCTION app_private.tg_streams__livekit_room();

--
-- Name: stream_seats _600_clear_request; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _600_clear_request AFTER INSERT ON app_public.stream_seats FOR EACH ROW EXECUTE FUNCTION app_private.tg_stream_seats__clear_request();

--
-- Name: streams _600_publish_ended; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _600_publish_ended AFTER UPDATE OF status ON app_public.streams FOR EACH ROW WHEN (((old.status = 'live'::text) AND (new.status = 'ended'::text))) EXECUTE FUNCTION app_private.tg_streams__publish_ended();

--
-- Name: stream_seats _900_enqueue; Type: TRIGGER; Schema: app_public; Owner: -
--

CREATE TRIGGER _900_enqueue AFTER INSERT OR UPDATE ON app_public.stream_seats FOR EACH ROW EXECUTE FUNCTION app_private.tg_stream_seats__enqueue();

--
-- Name: chat_transcript chat_transcript_deleted_by_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_transcript
    ADD CONSTRAINT chat_transcript_deleted_by_fkey FOREIGN KEY (deleted_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: chat_transcript chat_transcript_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_transcript
    ADD CONSTRAINT chat_transcript_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: chat_transcript chat_transcript_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.chat_transcript
    ADD CONSTRAINT chat_transcript_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: checkout_sessions checkout_sessions_pack_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.checkout_sessions
    ADD CONSTRAINT checkout_sessions_pack_id_fkey FOREIGN KEY (pack_id) REFERENCES app_public.coin_packs(id);

--
-- Name: checkout_sessions checkout_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.checkout_sessions
    ADD CONSTRAINT checkout_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: coin_transactions coin_transactions_credit_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.coin_transactions
    ADD CONSTRAINT coin_transactions_credit_user_id_fkey FOREIGN KEY (credit_user_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: coin_transactions coin_transactions_debit_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.coin_transactions
    ADD CONSTRAINT coin_transactions_debit_user_id_fkey FOREIGN KEY (debit_user_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: coin_transactions coin_transactions_gift_ledger_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.coin_transactions
    ADD CONSTRAINT coin_transactions_gift_ledger_id_fkey FOREIGN KEY (gift_ledger_id) REFERENCES app_private.gift_ledger(id) ON DELETE RESTRICT;

--
-- Name: gift_batch_items gift_batch_items_batch_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_batch_items
    ADD CONSTRAINT gift_batch_items_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES app_public.gift_batch_logs(id) ON DELETE RESTRICT;

--
-- Name: gift_ledger gift_ledger_gift_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_ledger
    ADD CONSTRAINT gift_ledger_gift_id_fkey FOREIGN KEY (gift_id) REFERENCES app_public.gifts(id) ON DELETE RESTRICT;

--
-- Name: gift_ledger gift_ledger_receiver_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_ledger
    ADD CONSTRAINT gift_ledger_receiver_id_fkey FOREIGN KEY (receiver_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: gift_ledger gift_ledger_sender_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_ledger
    ADD CONSTRAINT gift_ledger_sender_id_fkey FOREIGN KEY (sender_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: gift_ledger gift_ledger_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.gift_ledger
    ADD CONSTRAINT gift_ledger_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE RESTRICT;

--
-- Name: hls_checks hls_checks_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.hls_checks
    ADD CONSTRAINT hls_checks_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: livekit_enforcements livekit_enforcements_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.livekit_enforcements
    ADD CONSTRAINT livekit_enforcements_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: livekit_enforcements livekit_enforcements_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.livekit_enforcements
    ADD CONSTRAINT livekit_enforcements_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: payment_events payment_events_coin_transaction_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.payment_events
    ADD CONSTRAINT payment_events_coin_transaction_id_fkey FOREIGN KEY (coin_transaction_id) REFERENCES app_private.coin_transactions(id);

--
-- Name: payment_events payment_events_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.payment_events
    ADD CONSTRAINT payment_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: stream_egresses stream_egresses_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_egresses
    ADD CONSTRAINT stream_egresses_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: stream_playback stream_playback_requested_by_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_playback
    ADD CONSTRAINT stream_playback_requested_by_fkey FOREIGN KEY (requested_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_playback stream_playback_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.stream_playback
    ADD CONSTRAINT stream_playback_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: user_identities user_identities_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_identities
    ADD CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: user_secrets user_secrets_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.user_secrets
    ADD CONSTRAINT user_secrets_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: wallet_debts wallet_debts_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.wallet_debts
    ADD CONSTRAINT wallet_debts_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: wallets wallets_user_id_fkey; Type: FK CONSTRAINT; Schema: app_private; Owner: -
--

ALTER TABLE ONLY app_private.wallets
    ADD CONSTRAINT wallets_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: broadcaster_gifter_stats broadcaster_gifter_stats_broadcaster_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.broadcaster_gifter_stats
    ADD CONSTRAINT broadcaster_gifter_stats_broadcaster_id_fkey FOREIGN KEY (broadcaster_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: broadcaster_gifter_stats broadcaster_gifter_stats_gifter_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.broadcaster_gifter_stats
    ADD CONSTRAINT broadcaster_gifter_stats_gifter_id_fkey FOREIGN KEY (gifter_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: broadcaster_stats broadcaster_stats_broadcaster_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.broadcaster_stats
    ADD CONSTRAINT broadcaster_stats_broadcaster_id_fkey FOREIGN KEY (broadcaster_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: gifter_stats gifter_stats_gifter_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.gifter_stats
    ADD CONSTRAINT gifter_stats_gifter_id_fkey FOREIGN KEY (gifter_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: moderation_actions moderation_actions_actor_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.moderation_actions
    ADD CONSTRAINT moderation_actions_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: moderation_actions moderation_actions_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.moderation_actions
    ADD CONSTRAINT moderation_actions_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: moderation_actions moderation_actions_target_user_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.moderation_actions
    ADD CONSTRAINT moderation_actions_target_user_id_fkey FOREIGN KEY (target_user_id) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_bans stream_bans_banned_by_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_bans
    ADD CONSTRAINT stream_bans_banned_by_fkey FOREIGN KEY (banned_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_bans stream_bans_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_bans
    ADD CONSTRAINT stream_bans_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: stream_bans stream_bans_user_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_bans
    ADD CONSTRAINT stream_bans_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: stream_gifter_stats stream_gifter_stats_gifter_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_gifter_stats
    ADD CONSTRAINT stream_gifter_stats_gifter_id_fkey FOREIGN KEY (gifter_id) REFERENCES app_public.users(id) ON DELETE RESTRICT;

--
-- Name: stream_gifter_stats stream_gifter_stats_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_gifter_stats
    ADD CONSTRAINT stream_gifter_stats_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE RESTRICT;

--
-- Name: stream_mutes stream_mutes_muted_by_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_mutes
    ADD CONSTRAINT stream_mutes_muted_by_fkey FOREIGN KEY (muted_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_mutes stream_mutes_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_mutes
    ADD CONSTRAINT stream_mutes_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: stream_mutes stream_mutes_user_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_mutes
    ADD CONSTRAINT stream_mutes_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: stream_seat_requests stream_seat_requests_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seat_requests
    ADD CONSTRAINT stream_seat_requests_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: stream_seat_requests stream_seat_requests_user_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seat_requests
    ADD CONSTRAINT stream_seat_requests_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: stream_seats stream_seats_ended_by_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seats
    ADD CONSTRAINT stream_seats_ended_by_fkey FOREIGN KEY (ended_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_seats stream_seats_invited_by_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seats
    ADD CONSTRAINT stream_seats_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES app_public.users(id) ON DELETE SET NULL;

--
-- Name: stream_seats stream_seats_stream_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seats
    ADD CONSTRAINT stream_seats_stream_id_fkey FOREIGN KEY (stream_id) REFERENCES app_public.streams(id) ON DELETE CASCADE;

--
-- Name: stream_seats stream_seats_user_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.stream_seats
    ADD CONSTRAINT stream_seats_user_id_fkey FOREIGN KEY (user_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: streams streams_broadcaster_id_fkey; Type: FK CONSTRAINT; Schema: app_public; Owner: -
--

ALTER TABLE ONLY app_public.streams
    ADD CONSTRAINT streams_broadcaster_id_fkey FOREIGN KEY (broadcaster_id) REFERENCES app_public.users(id) ON DELETE CASCADE;

--
-- Name: broadcaster_gifter_stats; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.broadcaster_gifter_stats ENABLE ROW LEVEL SECURITY;

--
-- Name: broadcaster_stats; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.broadcaster_stats ENABLE ROW LEVEL SECURITY;

--
-- Name: coin_packs; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.coin_packs ENABLE ROW LEVEL SECURITY;

--
-- Name: gift_batch_logs; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.gift_batch_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: gifter_stats; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.gifter_stats ENABLE ROW LEVEL SECURITY;

--
-- Name: gifts; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.gifts ENABLE ROW LEVEL SECURITY;

--
-- Name: moderation_actions; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.moderation_actions ENABLE ROW LEVEL SECURITY;

--
-- Name: coin_packs select_active; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_active ON app_public.coin_packs FOR SELECT USING (active);

--
-- Name: gifts select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.gifts FOR SELECT USING (true);

--
-- Name: streams select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.streams FOR SELECT USING (true);

--
-- Name: users select_all; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_all ON app_public.users FOR SELECT USING (true);

--
-- Name: gift_batch_logs select_as_admin; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_as_admin ON app_public.gift_batch_logs FOR SELECT TO authenticated USING ((EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role)))));

--
-- Name: moderation_actions select_as_moderator; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_as_moderator ON app_public.moderation_actions FOR SELECT USING (app_hidden.can_moderate_stream(stream_id));

--
-- Name: broadcaster_gifter_stats select_involved; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_involved ON app_public.broadcaster_gifter_stats FOR SELECT TO authenticated USING (((gifter_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role))))));

--
-- Name: stream_gifter_stats select_involved; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_involved ON app_public.stream_gifter_stats FOR SELECT TO authenticated USING (((gifter_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_gifter_stats.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role))))));

--
-- Name: stream_bans select_moderator_or_self; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_moderator_or_self ON app_public.stream_bans FOR SELECT USING (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR app_hidden.can_moderate_stream(stream_id)));

--
-- Name: stream_mutes select_moderator_or_self; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_moderator_or_self ON app_public.stream_mutes FOR SELECT USING (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR app_hidden.can_moderate_stream(stream_id)));

--
-- Name: broadcaster_stats select_own; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_own ON app_public.broadcaster_stats FOR SELECT TO authenticated USING (((broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role))))));

--
-- Name: gifter_stats select_own; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_own ON app_public.gifter_stats FOR SELECT TO authenticated USING (((gifter_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role))))));

--
-- Name: stream_seat_requests select_own_or_manager; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_own_or_manager ON app_public.stream_seat_requests FOR SELECT USING (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_seat_requests.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = ANY (ARRAY['moderator'::app_public.app_role, 'admin'::app_public.app_role])))))));

--
-- Name: stream_seats select_visible; Type: POLICY; Schema: app_public; Owner: -
--

CREATE POLICY select_visible ON app_public.stream_seats FOR SELECT USING (((status = 'active'::text) OR (user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_seats.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = ANY (ARRAY['moderator'::app_public.app_role, 'admin'::app_public.app_role])))))));

--
-- Name: stream_bans; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.stream_bans ENABLE ROW LEVEL SECURITY;

--
-- Name: stream_gifter_stats; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.stream_gifter_stats ENABLE ROW LEVEL SECURITY;

--
-- Name: stream_mutes; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.stream_mutes ENABLE ROW LEVEL SECURITY;

--
-- Name: stream_seat_requests; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.stream_seat_requests ENABLE ROW LEVEL SECURITY;

--
-- Name: stream_seats; Type: ROW SECURITY; Schema: app_public; Owner: -
--

ALTER TABLE app_public.stream_seats ENABLE ROW LEVEL SECURITY;

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
GRANT USAGE ON SCHEMA app_hidden TO authenticator;

--
-- Name: SCHEMA app_private; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_private TO trollcity_server;

--
-- Name: SCHEMA app_public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA app_public TO anon;
GRANT USAGE ON SCHEMA app_public TO authenticated;

--
-- Name: FUNCTION can_moderate_stream(stream_id uuid); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.can_moderate_stream(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.can_moderate_stream(stream_id uuid) TO anon;
GRANT ALL ON FUNCTION app_hidden.can_moderate_stream(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION clean_line(value text, what text, max_chars integer, min_chars integer); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) TO anon;
GRANT ALL ON FUNCTION app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) TO authenticated;

--
-- Name: FUNCTION count_login_failure(username_or_email text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.count_login_failure(username_or_email text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.count_login_failure(username_or_email text) TO authenticator;

--
-- Name: FUNCTION hidden_chars(); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.hidden_chars() FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.hidden_chars() TO anon;
GRANT ALL ON FUNCTION app_hidden.hidden_chars() TO authenticated;

--
-- Name: FUNCTION is_clean_line(value text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.is_clean_line(value text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.is_clean_line(value text) TO anon;
GRANT ALL ON FUNCTION app_hidden.is_clean_line(value text) TO authenticated;

--
-- Name: FUNCTION line_problem(value text, what text, max_chars integer, min_chars integer); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) TO anon;
GRANT ALL ON FUNCTION app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) TO authenticated;

--
-- Name: FUNCTION playback_health_rows(); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.playback_health_rows() FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.playback_health_rows() TO authenticated;

--
-- Name: FUNCTION stream_category_valid(category text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.stream_category_valid(category text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.stream_category_valid(category text) TO anon;
GRANT ALL ON FUNCTION app_hidden.stream_category_valid(category text) TO authenticated;

--
-- Name: FUNCTION stream_thumbnail_url_valid(url text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.stream_thumbnail_url_valid(url text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_hidden.stream_thumbnail_url_valid(url text) TO anon;
GRANT ALL ON FUNCTION app_hidden.stream_thumbnail_url_valid(url text) TO authenticated;

--
-- Name: FUNCTION strip_hidden(value text); Type: ACL; Schema: app_hidden; Owner: -
--

REVOKE ALL ON FUNCTION app_hidden.strip_hidden(value text) FROM PUBLIC;

--
-- Name: FUNCTION add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) FROM PUBLIC;

--
-- Name: FUNCTION apply_viewer_count(stream_id uuid, viewer_count integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.apply_viewer_count(stream_id uuid, viewer_count integer) FROM PUBLIC;

--
-- Name: FUNCTION base64url(data bytea); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.base64url(data bytea) FROM PUBLIC;

--
-- Name: TABLE coin_packs; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.coin_packs TO anon;
GRANT SELECT ON TABLE app_public.coin_packs TO authenticated;

--
-- Name: FUNCTION checkout_pack(user_id uuid, pack_slug text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.checkout_pack(user_id uuid, pack_slug text) FROM PUBLIC;

--
-- Name: FUNCTION claim_hls_checks(lease_seconds integer, max_rows integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.claim_hls_checks(lease_seconds integer, max_rows integer) FROM PUBLIC;

--
-- Name: FUNCTION claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint) FROM PUBLIC;

--
-- Name: FUNCTION clear_presence(node_id text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.clear_presence(node_id text) FROM PUBLIC;

--
-- Name: FUNCTION configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) FROM PUBLIC;

--
-- Name: FUNCTION configure_egress(egress_target text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.configure_egress(egress_target text) FROM PUBLIC;

--
-- Name: FUNCTION configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) FROM PUBLIC;

--
-- Name: FUNCTION egress_job(id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.egress_job(id uuid) FROM PUBLIC;

--
-- Name: FUNCTION egress_metrics(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.egress_metrics() FROM PUBLIC;

--
-- Name: FUNCTION expire_due_seats(stream_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.expire_due_seats(stream_id uuid) FROM PUBLIC;

--
-- Name: TABLE stream_seats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.stream_seats TO anon;
GRANT SELECT ON TABLE app_public.stream_seats TO authenticated;

--
-- Name: FUNCTION expire_seat(seat_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.expire_seat(seat_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION flush_chat_transcript(max_rows integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.flush_chat_transcript(max_rows integer) FROM PUBLIC;

--
-- Name: FUNCTION flush_presence(node_id text, counts jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.flush_presence(node_id text, counts jsonb) FROM PUBLIC;

--
-- Name: FUNCTION fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb) FROM PUBLIC;

--
-- Name: FUNCTION gift_audit(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.gift_audit() FROM PUBLIC;

--
-- Name: FUNCTION gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) FROM PUBLIC;

--
-- Name: FUNCTION gift_request_rows(requests jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.gift_request_rows(requests jsonb) FROM PUBLIC;

--
-- Name: FUNCTION gift_setting(key text, fallback integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.gift_setting(key text, fallback integer) FROM PUBLIC;

--
-- Name: FUNCTION gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) FROM PUBLIC;

--
-- Name: FUNCTION hls_check_target(stream_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.hls_check_target(stream_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION issue_coins(user_id uuid, coins bigint, kind text, reference text, note text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) FROM PUBLIC;

--
-- Name: FUNCTION livekit_grant_for(stream_id uuid, user_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.livekit_grant_for(stream_id uuid, user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION livekit_room_spec(stream_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.livekit_room_spec(stream_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) FROM PUBLIC;

--
-- Name: FUNCTION login_account_key(username_or_email text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.login_account_key(username_or_email text) FROM PUBLIC;

--
-- Name: TABLE streams; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.streams TO anon;
GRANT SELECT ON TABLE app_public.streams TO authenticated;

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
-- Name: COLUMN users.vehicle_status; Type: ACL; Schema: app_public; Owner: -
--

GRANT UPDATE(vehicle_status) ON TABLE app_public.users TO authenticated;

--
-- Name: FUNCTION manages_stage(stream app_public.streams, actor app_public.users); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.manages_stage(stream app_public.streams, actor app_public.users) FROM PUBLIC;

--
-- Name: FUNCTION moderation_target(stream_id uuid, user_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.moderation_target(stream_id uuid, user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION next_stream_event_batches(max_events integer, max_payload integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.next_stream_event_batches(max_events integer, max_payload integer) FROM PUBLIC;

--
-- Name: FUNCTION playback_metrics(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.playback_metrics() FROM PUBLIC;

--
-- Name: FUNCTION playback_viewer_count(s app_public.streams); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.playback_viewer_count(s app_public.streams) FROM PUBLIC;

--
-- Name: TABLE gift_batch_logs; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.gift_batch_logs TO authenticated;

--
-- Name: FUNCTION process_gift_ledger_batch(max_rows integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.process_gift_ledger_batch(max_rows integer) FROM PUBLIC;

--
-- Name: FUNCTION prune_stream_events(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.prune_stream_events() FROM PUBLIC;

--
-- Name: FUNCTION publish_stream_event(stream_id uuid, kind text, payload jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) FROM PUBLIC;

--
-- Name: FUNCTION publish_viewer_counts(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.publish_viewer_counts() FROM PUBLIC;

--
-- Name: FUNCTION purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) FROM PUBLIC;

--
-- Name: FUNCTION record_checkout_session(session_id text, user_id uuid, pack_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) FROM PUBLIC;

--
-- Name: FUNCTION record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) FROM PUBLIC;

--
-- Name: FUNCTION record_login_failure(username_or_email text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.record_login_failure(username_or_email text) FROM PUBLIC;

--
-- Name: FUNCTION relay_stream_events(max_events integer, max_payload integer); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.relay_stream_events(max_events integer, max_payload integer) FROM PUBLIC;

--
-- Name: FUNCTION request_transition(stream_id uuid, target text, reason text, requested_by uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) FROM PUBLIC;

--
-- Name: FUNCTION require_staff(admin_only boolean); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.require_staff(admin_only boolean) FROM PUBLIC;

--
-- Name: FUNCTION require_user(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.require_user() FROM PUBLIC;

--
-- Name: FUNCTION restore_relay_state(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.restore_relay_state() FROM PUBLIC;

--
-- Name: FUNCTION reverse_gift(gift_ledger_id bigint, reason text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.reverse_gift(gift_ledger_id bigint, reason text) FROM PUBLIC;

--
-- Name: FUNCTION scan_viral_thresholds(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.scan_viral_thresholds() FROM PUBLIC;

--
-- Name: FUNCTION send_chat_messages(requests jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.send_chat_messages(requests jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION app_private.send_chat_messages(requests jsonb) TO trollcity_server;

--
-- Name: FUNCTION send_gifts(requests jsonb); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.send_gifts(requests jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION app_private.send_gifts(requests jsonb) TO trollcity_server;

--
-- Name: FUNCTION settle_wallet_debts(user_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.settle_wallet_debts(user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION sign_jwt(user_id uuid); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.sign_jwt(user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION stop_stream_egresses(stream_id uuid, reason text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.stop_stream_egresses(stream_id uuid, reason text) FROM PUBLIC;

--
-- Name: FUNCTION stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) FROM PUBLIC;

--
-- Name: FUNCTION stream_needs_egress(stream_id uuid, hls_provider text); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.stream_needs_egress(stream_id uuid, hls_provider text) FROM PUBLIC;

--
-- Name: FUNCTION tg__append_only(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__append_only() FROM PUBLIC;

--
-- Name: FUNCTION tg__chat_restriction_hint(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__chat_restriction_hint() FROM PUBLIC;

--
-- Name: FUNCTION tg__timestamps(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg__timestamps() FROM PUBLIC;

--
-- Name: FUNCTION tg_gift_ledger__queue(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_gift_ledger__queue() FROM PUBLIC;

--
-- Name: FUNCTION tg_stream_playback__egress(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_stream_playback__egress() FROM PUBLIC;

--
-- Name: FUNCTION tg_stream_seats__clear_request(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_stream_seats__clear_request() FROM PUBLIC;

--
-- Name: FUNCTION tg_stream_seats__enqueue(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_stream_seats__enqueue() FROM PUBLIC;

--
-- Name: FUNCTION tg_streams__end_seats(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_streams__end_seats() FROM PUBLIC;

--
-- Name: FUNCTION tg_streams__livekit_room(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_streams__livekit_room() FROM PUBLIC;

--
-- Name: FUNCTION tg_streams__publish_ended(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_streams__publish_ended() FROM PUBLIC;

--
-- Name: FUNCTION tg_users__clean_text(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_users__clean_text() FROM PUBLIC;

--
-- Name: FUNCTION tg_users__identity(); Type: ACL; Schema: app_private; Owner: -
--

REVOKE ALL ON FUNCTION app_private.tg_users__identity() FROM PUBLIC;

--
-- Name: FUNCTION accept_seat(seat_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.accept_seat(seat_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.accept_seat(seat_id uuid) TO authenticated;

--
-- Name: FUNCTION admin_failed_gifts(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.admin_failed_gifts() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.admin_failed_gifts() TO authenticated;

--
-- Name: FUNCTION admin_livekit_failures(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.admin_livekit_failures() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.admin_livekit_failures() TO authenticated;

--
-- Name: FUNCTION admin_moderation_log(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.admin_moderation_log() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.admin_moderation_log() TO authenticated;

--
-- Name: FUNCTION admin_users(search text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.admin_users(search text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.admin_users(search text) TO authenticated;

--
-- Name: FUNCTION ban_site_user(user_id uuid, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.ban_site_user(user_id uuid, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.ban_site_user(user_id uuid, reason text) TO authenticated;

--
-- Name: TABLE stream_bans; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.stream_bans TO authenticated;

--
-- Name: FUNCTION ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) TO authenticated;

--
-- Name: FUNCTION period_start(period text, at timestamp with time zone); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.period_start(period text, at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.period_start(period text, at timestamp with time zone) TO anon;
GRANT ALL ON FUNCTION app_public.period_start(period text, at timestamp with time zone) TO authenticated;

--
-- Name: TABLE broadcaster_stats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.broadcaster_stats TO authenticated;

--
-- Name: FUNCTION broadcaster_earnings(broadcaster_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.broadcaster_earnings(broadcaster_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.broadcaster_earnings(broadcaster_id uuid) TO authenticated;

--
-- Name: FUNCTION cancel_seat_request(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.cancel_seat_request(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.cancel_seat_request(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) TO authenticated;

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
-- Name: FUNCTION delete_chat_message(message_id bigint, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.delete_chat_message(message_id bigint, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.delete_chat_message(message_id bigint, reason text) TO authenticated;

--
-- Name: FUNCTION end_stream(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.end_stream(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.end_stream(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION gift_batch_logs("limit" integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.gift_batch_logs("limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.gift_batch_logs("limit" integer) TO authenticated;

--
-- Name: FUNCTION gifter_leaderboard(period text, "limit" integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.gifter_leaderboard(period text, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.gifter_leaderboard(period text, "limit" integer) TO anon;
GRANT ALL ON FUNCTION app_public.gifter_leaderboard(period text, "limit" integer) TO authenticated;

--
-- Name: FUNCTION go_live(title text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.go_live(title text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.go_live(title text) TO authenticated;

--
-- Name: FUNCTION grant_coins(user_id uuid, coins integer, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.grant_coins(user_id uuid, coins integer, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.grant_coins(user_id uuid, coins integer, reason text) TO authenticated;

--
-- Name: FUNCTION invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) TO authenticated;

--
-- Name: FUNCTION leaderboard(period text, "limit" integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.leaderboard(period text, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.leaderboard(period text, "limit" integer) TO anon;
GRANT ALL ON FUNCTION app_public.leaderboard(period text, "limit" integer) TO authenticated;

--
-- Name: FUNCTION leave_seat(seat_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.leave_seat(seat_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.leave_seat(seat_id uuid) TO authenticated;

--
-- Name: FUNCTION live_streams(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.live_streams() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.live_streams() TO anon;
GRANT ALL ON FUNCTION app_public.live_streams() TO authenticated;

--
-- Name: FUNCTION livekit_grant(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.livekit_grant(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.livekit_grant(stream_id uuid) TO anon;
GRANT ALL ON FUNCTION app_public.livekit_grant(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION login(username_or_email text, password text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.login(username_or_email text, password text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.login(username_or_email text, password text) TO anon;

--
-- Name: TABLE stream_mutes; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.stream_mutes TO authenticated;

--
-- Name: FUNCTION mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) TO authenticated;

--
-- Name: FUNCTION my_coin_transactions(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.my_coin_transactions() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.my_coin_transactions() TO authenticated;

--
-- Name: FUNCTION my_live_stream(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.my_live_stream() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.my_live_stream() TO anon;
GRANT ALL ON FUNCTION app_public.my_live_stream() TO authenticated;

--
-- Name: FUNCTION my_wallet(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.my_wallet() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.my_wallet() TO authenticated;

--
-- Name: FUNCTION recent_chat_messages(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.recent_chat_messages(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.recent_chat_messages(stream_id uuid) TO anon;
GRANT ALL ON FUNCTION app_public.recent_chat_messages(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION register(username text, email text, password text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.register(username text, email text, password text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.register(username text, email text, password text) TO anon;

--
-- Name: FUNCTION renew_token(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.renew_token() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.renew_token() TO authenticated;

--
-- Name: FUNCTION report_playback_failure(stream_id uuid, path text, url text, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) TO anon;
GRANT ALL ON FUNCTION app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) TO authenticated;

--
-- Name: TABLE stream_seat_requests; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.stream_seat_requests TO authenticated;

--
-- Name: FUNCTION request_seat(stream_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.request_seat(stream_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.request_seat(stream_id uuid) TO authenticated;

--
-- Name: FUNCTION request_viral_mode(stream_id uuid, mode text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.request_viral_mode(stream_id uuid, mode text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.request_viral_mode(stream_id uuid, mode text) TO authenticated;

--
-- Name: FUNCTION revoke_seat(seat_id uuid, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.revoke_seat(seat_id uuid, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.revoke_seat(seat_id uuid, reason text) TO authenticated;

--
-- Name: FUNCTION send_chat_message(stream_id uuid, body text, client_id text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.send_chat_message(stream_id uuid, body text, client_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.send_chat_message(stream_id uuid, body text, client_id text) TO authenticated;

--
-- Name: FUNCTION send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) TO authenticated;

--
-- Name: FUNCTION set_seat_cap(stream_id uuid, seat_cap integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_seat_cap(stream_id uuid, seat_cap integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_seat_cap(stream_id uuid, seat_cap integer) TO authenticated;

--
-- Name: FUNCTION set_slow_mode(stream_id uuid, seconds integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_slow_mode(stream_id uuid, seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_slow_mode(stream_id uuid, seconds integer) TO authenticated;

--
-- Name: FUNCTION set_stream_details(stream_id uuid, title text, category text, thumbnail_url text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) TO authenticated;

--
-- Name: FUNCTION set_user_role(user_id uuid, role app_public.app_role); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_user_role(user_id uuid, role app_public.app_role) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_user_role(user_id uuid, role app_public.app_role) TO authenticated;

--
-- Name: FUNCTION set_vehicle_status(status text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.set_vehicle_status(status text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.set_vehicle_status(status text) TO authenticated;

--
-- Name: FUNCTION stream_categories(); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.stream_categories() FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.stream_categories() TO anon;
GRANT ALL ON FUNCTION app_public.stream_categories() TO authenticated;

--
-- Name: FUNCTION stream_events_since(stream_id uuid, after_id bigint); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.stream_events_since(stream_id uuid, after_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.stream_events_since(stream_id uuid, after_id bigint) TO anon;
GRANT ALL ON FUNCTION app_public.stream_events_since(stream_id uuid, after_id bigint) TO authenticated;

--
-- Name: FUNCTION streams_hls_url(s app_public.streams); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.streams_hls_url(s app_public.streams) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.streams_hls_url(s app_public.streams) TO anon;
GRANT ALL ON FUNCTION app_public.streams_hls_url(s app_public.streams) TO authenticated;

--
-- Name: FUNCTION streams_playback(s app_public.streams); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.streams_playback(s app_public.streams) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.streams_playback(s app_public.streams) TO anon;
GRANT ALL ON FUNCTION app_public.streams_playback(s app_public.streams) TO authenticated;

--
-- Name: FUNCTION streams_viewer_count(s app_public.streams); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.streams_viewer_count(s app_public.streams) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.streams_viewer_count(s app_public.streams) TO anon;
GRANT ALL ON FUNCTION app_public.streams_viewer_count(s app_public.streams) TO authenticated;

--
-- Name: FUNCTION top_gifters(stream_id uuid, "limit" integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.top_gifters(stream_id uuid, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.top_gifters(stream_id uuid, "limit" integer) TO anon;
GRANT ALL ON FUNCTION app_public.top_gifters(stream_id uuid, "limit" integer) TO authenticated;

--
-- Name: FUNCTION top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) TO anon;
GRANT ALL ON FUNCTION app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) TO authenticated;

--
-- Name: FUNCTION unban_site_user(user_id uuid, reason text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.unban_site_user(user_id uuid, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.unban_site_user(user_id uuid, reason text) TO authenticated;

--
-- Name: FUNCTION unban_user(stream_id uuid, user_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.unban_user(stream_id uuid, user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.unban_user(stream_id uuid, user_id uuid) TO authenticated;

--
-- Name: FUNCTION unmute_user(stream_id uuid, user_id uuid); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.unmute_user(stream_id uuid, user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.unmute_user(stream_id uuid, user_id uuid) TO authenticated;

--
-- Name: FUNCTION user_by_username(username text); Type: ACL; Schema: app_public; Owner: -
--

REVOKE ALL ON FUNCTION app_public.user_by_username(username text) FROM PUBLIC;
GRANT ALL ON FUNCTION app_public.user_by_username(username text) TO anon;
GRANT ALL ON FUNCTION app_public.user_by_username(username text) TO authenticated;

--
-- Name: TABLE broadcaster_gifter_stats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.broadcaster_gifter_stats TO authenticated;

--
-- Name: TABLE gifter_stats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.gifter_stats TO authenticated;

--
-- Name: TABLE gifts; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.gifts TO anon;
GRANT SELECT ON TABLE app_public.gifts TO authenticated;

--
-- Name: TABLE moderation_actions; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.moderation_actions TO authenticated;

--
-- Name: TABLE playback_health; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.playback_health TO authenticated;

--
-- Name: TABLE stream_gifter_stats; Type: ACL; Schema: app_public; Owner: -
--

GRANT SELECT ON TABLE app_public.stream_gifter_stats TO authenticated;

--
-- PostgreSQL database dump complete
--
