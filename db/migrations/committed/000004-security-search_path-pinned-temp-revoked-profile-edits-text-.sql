--! Previous: sha1:02b7f66d668b29f5ce21f058d4e809f595d2f1e8
--! Hash: sha1:17f326c5c34db0a77d1d0a91cd7f1ac20943826e
--! Message: Security: search_path pinned, TEMP revoked, profile edits, text hygiene, private gifter stats, login throttle and password policy

--! split: 100-security.sql
-- Issue 15, security hardening (database side); docs/security.md says what each part is for.
-- Re-runnable: --!include lines (idempotent source files) and idempotent DDL only. Order: database
-- privileges, new tables, new helper functions, every changed source file, then the data repair,
-- triggers, constraints and indexes that need them.

-- Pinned search_path (every source file below now sets `search_path = pg_catalog, pg_temp` instead
-- of '': with '' PostgreSQL still looks in pg_temp first for types, so a session with TEMP could
-- shadow `uuid` with a temp domain whose CHECK runs its own code as a SECURITY DEFINER function's
-- owner). And no request role may create temporary objects in the app database at all.
do $$
begin
  execute format('revoke temporary on database %I from public', current_database());
  execute format('revoke temporary on database %I from anon, authenticated, authenticator', current_database());
  -- The role the app migrates and runs as (the server and worker: settlement uses a temp table)
  -- keeps it, also when it is not the database's owner and had TEMP only through PUBLIC.
  execute format('grant temporary on database %I to %I', current_database(), current_user);
end
$$;

-- Finding 1: failed sign-ins per account and window (app_public.login, app_private.record_login_failure).
create table if not exists app_private.login_failures (
  account text primary key,
  failures integer not null check (failures > 0),
  window_start timestamptz not null
);
comment on table app_private.login_failures is
  'Failed sign-ins per account (user id, or a digest of an unknown identifier) in the current window; read by app_public.login, written by app_private.record_login_failure.';
create index if not exists login_failures_window_start_idx on app_private.login_failures (window_start);

-- New helpers: the text rule (finding 7), the sign-in throttle (finding 1), the admin playback rows
-- behind the now security_invoker view app_public.playback_health (lint security_definer_view).
--! Included shared/hidden_chars.sql
create or replace function app_hidden.hidden_chars() returns text
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_hidden.hidden_chars() from public, anon, authenticated;
grant execute on function app_hidden.hidden_chars() to anon, authenticated;
comment on function app_hidden.hidden_chars() is
  'The regular expression matching every character single-line user text may not contain: controls, bidi controls, zero-width and invisible characters, line/paragraph separators, soft hyphen, tag characters (docs/security.md).';
--! EndIncluded shared/hidden_chars.sql
--! Included shared/is_clean_line.sql
create or replace function app_hidden.is_clean_line(value text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select value is null or (value is nfc normalized and value !~ app_hidden.hidden_chars())
$$;
revoke all on function app_hidden.is_clean_line(value text) from public, anon, authenticated;
grant execute on function app_hidden.is_clean_line(value text) to anon, authenticated;
comment on function app_hidden.is_clean_line(value text) is
  'True when a single line of user text is NFC and holds none of app_hidden.hidden_chars() (null is clean). The CHECK constraint of every single-line text column.';
--! EndIncluded shared/is_clean_line.sql
--! Included shared/clean_line.sql
create or replace function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer default 1) returns text
  language plpgsql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
declare
  v text := btrim(normalize(value, nfc),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000');
  v_bad text;
begin
  if v = '' then
    v := null;
  end if;
  if coalesce(char_length(v), 0) < min_chars or char_length(v) > max_chars then
    if min_chars > 0 then
      raise exception '% must be %-% characters', what, min_chars, max_chars using errcode = 'BADIN';
    end if;
    raise exception '% must be at most % characters', what, max_chars using errcode = 'BADIN';
  end if;
  v_bad := substring(v from app_hidden.hidden_chars());
  if v_bad is not null then
    raise exception '% contains an invisible or control character (U+%)', what, upper(lpad(to_hex(ascii(v_bad)), 4, '0'))
      using errcode = 'BADIN';
  end if;
  return v;
end;
$$;
revoke all on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) from public, anon, authenticated;
grant execute on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) to anon, authenticated;
comment on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) is
  'One line of user text, NFC-normalised and trimmed (null when blank), or BADIN naming the field: too short/long, or holding a character of app_hidden.hidden_chars() (the message names its code point).';
--! EndIncluded shared/clean_line.sql
--! Included shared/strip_hidden.sql
create or replace function app_hidden.strip_hidden(value text) returns text
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select nullif(btrim(regexp_replace(regexp_replace(normalize(value, nfc), '[\t\n\r\u0085\u2028\u2029]+', ' ', 'g'), app_hidden.hidden_chars(), '', 'g'),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '')
$$;
revoke all on function app_hidden.strip_hidden(value text) from public, anon, authenticated;
comment on function app_hidden.strip_hidden(value text) is
  'A line with every character of app_hidden.hidden_chars() removed, NFC, trimmed (null when nothing is left). For text that must not be refused (telemetry) and for repairing old rows.';
--! EndIncluded shared/strip_hidden.sql
--! Included accounts/login_account_key.sql
create or replace function app_private.login_account_key(username_or_email text) returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.login_account_key(username_or_email text) from public, anon, authenticated;
comment on function app_private.login_account_key(username_or_email text) is
  'The throttle key of a sign-in: the user id, or a digest of an unknown identifier.';
--! EndIncluded accounts/login_account_key.sql
--! Included accounts/record_login_failure.sql
create or replace function app_private.record_login_failure(username_or_email text) returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.record_login_failure(username_or_email text) from public, anon, authenticated;
comment on function app_private.record_login_failure(username_or_email text) is
  'Counts one failed sign-in against the account (login_failures, per window). Returns the failures in the current window. Must run in a transaction that commits: the CREDS error of app_public.login rolls back its own record.';
--! EndIncluded accounts/record_login_failure.sql
--! Included playback/playback_health_rows.sql
create or replace function app_hidden.playback_health_rows()
  returns table (stream_id uuid, title text, status text, hls_provider text, mode text, pending text, pending_reason text,
                 attempts integer, check_due_at timestamptz, last_check_at timestamptz, last_check_ok boolean,
                 last_check_url text, last_error text, alerting boolean, failure_reports integer, failure_reports_5m integer)
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
  WHERE (EXISTS ( SELECT 1
           FROM app_public.users u
          WHERE u.id = app_public.current_user_id() AND u.role = 'admin'::app_public.app_role))
$$;
revoke all on function app_hidden.playback_health_rows() from public, anon, authenticated;
grant execute on function app_hidden.playback_health_rows() to authenticated;
comment on function app_hidden.playback_health_rows() is
  'The rows of app_public.playback_health: SECURITY DEFINER (they come from app_private), and only for an admin caller (no rows otherwise).';
--! EndIncluded playback/playback_health_rows.sql

-- Every changed function, view, policy and grant block: the pinned path everywhere; profile edits
-- (tg_users__identity SECURITY DEFINER, finding 4); clean_line in every function taking user text
-- (finding 7); private gifter stats with public top lists (finding 8); login/register (finding 1);
-- what plpgsql_check found (unread variables, the settlement's temp table declared for the checker).
--! Included accounts/base64url.sql
create or replace function app_private.base64url(data bytea) returns text
  language sql immutable strict parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select translate(rtrim(replace(encode(data, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;
revoke all on function app_private.base64url(data bytea) from public, anon, authenticated;
--! EndIncluded accounts/base64url.sql
--! Included accounts/configure_auth.sql
create or replace function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) returns void
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) from public, anon, authenticated;
comment on function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) is
  'Called by the server at start with its validated config.';
--! EndIncluded accounts/configure_auth.sql
--! Included accounts/current_user.sql
create or replace function app_public.current_user() returns app_public.users
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select u.* from app_public.users u where u.id = app_public.current_user_id()
$$;
revoke all on function app_public.current_user() from public, anon, authenticated;
grant execute on function app_public.current_user() to anon, authenticated;
comment on function app_public.current_user() is
  'The signed-in user, or null.';
--! EndIncluded accounts/current_user.sql
--! Included accounts/current_user_id.sql
create or replace function app_public.current_user_id() returns uuid
  language sql stable parallel safe
as $$
  select nullif(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb ->> 'sub', '')::pg_catalog.uuid
$$;
revoke all on function app_public.current_user_id() from public, anon, authenticated;
grant execute on function app_public.current_user_id() to anon, authenticated;
comment on function app_public.current_user_id() is
  E'@behavior -queryField\nThe signed-in user''s id, from the verified JWT claims (`sub`); null when anonymous.';
--! EndIncluded accounts/current_user_id.sql
--! Included accounts/login.sql
create or replace function app_public.login(username_or_email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
    -- Not recorded here: this error rolls the transaction back. The caller records the failure in
    -- a transaction of its own (app_private.record_login_failure), see docs/security.md.
    raise exception 'wrong username/email or password' using errcode = 'CREDS';
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
$$;
revoke all on function app_public.login(username_or_email text, password text) from public, anon, authenticated;
grant execute on function app_public.login(username_or_email text, password text) to anon;
comment on function app_public.login(username_or_email text, password text) is
  'Signs in and returns a short-lived JWT. Throttled per account: one attempt at a time, and after 5 failures in 15 minutes RATEL until the window ends. Errors: CREDS wrong credentials, BANND banned, RATEL (retry after the seconds in the message).';
--! EndIncluded accounts/login.sql
--! Included accounts/register.sql
create or replace function app_public.register(username text, email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user_id uuid;
  v_hash text;
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
  return app_private.sign_jwt(v_user_id);
exception
  when unique_violation then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
end;
$$;
revoke all on function app_public.register(username text, email text, password text) from public, anon, authenticated;
grant execute on function app_public.register(username text, email text, password text) to anon;
comment on function app_public.register(username text, email text, password text) is
  'Creates an account (app role viewer) and returns a signed JWT. Password: 10 characters to 72 bytes, not the username or e-mail; bcrypt cost 10. Errors: BADIN invalid input, CONFL username or email taken (one message for both).';
--! EndIncluded accounts/register.sql
--! Included accounts/require_user.sql
create or replace function app_private.require_user() returns app_public.users
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.require_user() from public, anon, authenticated;
comment on function app_private.require_user() is
  'The signed-in, unbanned caller. Errors: NOAUT, BANND.';
--! EndIncluded accounts/require_user.sql
--! Included accounts/set_user_role.sql
create or replace function app_public.set_user_role(user_id uuid, role app_public.app_role) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.set_user_role(user_id uuid, role app_public.app_role) from public, anon, authenticated;
grant execute on function app_public.set_user_role(user_id uuid, role app_public.app_role) to authenticated;
comment on function app_public.set_user_role(user_id uuid, role app_public.app_role) is
  'Changes a user''s app role. Admins only, never their own. Errors: NOAUT, BANND, DENYD, NOFND, BADIN.';
--! EndIncluded accounts/set_user_role.sql
--! Included accounts/set_vehicle_status.sql
create or replace function app_public.set_vehicle_status(status text) returns app_public.users
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.set_vehicle_status(status text) from public, anon, authenticated;
grant execute on function app_public.set_vehicle_status(status text) to authenticated;
comment on function app_public.set_vehicle_status(status text) is
  'Sets (or clears, with null/empty) the caller''s vehicle status shown in chat. Errors: NOAUT, BADIN.';
--! EndIncluded accounts/set_vehicle_status.sql
--! Included accounts/sign_jwt.sql
create or replace function app_private.sign_jwt(user_id uuid) returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.sign_jwt(user_id uuid) from public, anon, authenticated;
comment on function app_private.sign_jwt(user_id uuid) is
  'HS256 token for the API: role authenticated, sub = user id, short-lived.';
--! EndIncluded accounts/sign_jwt.sql
--! Included accounts/tg_users__clean_text.sql
create or replace function app_private.tg_users__clean_text() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_private.tg_users__clean_text() from public, anon, authenticated;
comment on function app_private.tg_users__clean_text() is
  'Display name, vehicle status and avatar URL, cleaned (NFC, trimmed) or refused with BADIN on every insert and update of app_public.users (docs/security.md).';
--! EndIncluded accounts/tg_users__clean_text.sql
--! Included accounts/tg_users__identity.sql
create or replace function app_private.tg_users__identity() returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.tg_users__identity() from public, anon, authenticated;
comment on function app_private.tg_users__identity() is
  'Keeps app_private.user_identities in step with app_public.users. SECURITY DEFINER: profile edits run as the user (UPDATE on app_public.users), who has no usage on app_private.';
--! EndIncluded accounts/tg_users__identity.sql
--! Included accounts/user_by_username.sql
create or replace function app_public.user_by_username(username text) returns app_public.users
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select u.* from app_public.users u where lower(u.username) = lower(user_by_username.username)
$$;
revoke all on function app_public.user_by_username(username text) from public, anon, authenticated;
grant execute on function app_public.user_by_username(username text) to anon, authenticated;
comment on function app_public.user_by_username(username text) is
  'A user by username (case-insensitive).';
--! EndIncluded accounts/user_by_username.sql
--! Included chat/ban_user.sql
create or replace function app_public.ban_user(stream_id uuid, user_id uuid, reason text default null, duration_seconds int default null)
  returns app_public.stream_bans
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) from public, anon, authenticated;
grant execute on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) to authenticated;
comment on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) is
  'Bans a user from a stream''s chat (null duration = until unbanned) and hides their messages for everyone (a chat_deleted event with user_id). Errors: NOAUT, NOFND, DENYD, BADIN.';
--! EndIncluded chat/ban_user.sql
--! Included chat/can_moderate_stream.sql
create or replace function app_hidden.can_moderate_stream(stream_id uuid) returns boolean
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
begin
  return exists (select 1 from app_public.streams s where s.id = can_moderate_stream.stream_id and s.broadcaster_id = v_uid)
      or exists (select 1 from app_public.users u where u.id = v_uid and u.role in ('moderator', 'admin'));
end;
$$;
revoke all on function app_hidden.can_moderate_stream(stream_id uuid) from public, anon, authenticated;
grant execute on function app_hidden.can_moderate_stream(stream_id uuid) to anon, authenticated;
comment on function app_hidden.can_moderate_stream(stream_id uuid) is
  'True when the caller is the stream''s broadcaster or a moderator/admin.';
--! EndIncluded chat/can_moderate_stream.sql
--! Included chat/delete_chat_message.sql
create or replace function app_public.delete_chat_message(message_id bigint, reason text default null) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.delete_chat_message(message_id bigint, reason text) from public, anon, authenticated;
grant execute on function app_public.delete_chat_message(message_id bigint, reason text) to authenticated;
comment on function app_public.delete_chat_message(message_id bigint, reason text) is
  'Deletes a chat message for everyone (a chat_deleted event); by its sender, the broadcaster or a moderator. False when already deleted. Errors: NOAUT, NOFND, DENYD.';
--! EndIncluded chat/delete_chat_message.sql
--! Included chat/flush_chat_transcript.sql
create or replace function app_private.flush_chat_transcript(max_rows int default 10000) returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.flush_chat_transcript(max_rows integer) from public, anon, authenticated;
comment on function app_private.flush_chat_transcript(max_rows integer) is
  'Moves up to max_rows buffered chat messages into the durable transcript in one statement and prunes messages older than the chat_transcript_retention_days setting (default 30). Returns the number moved.';
--! EndIncluded chat/flush_chat_transcript.sql
--! Included chat/log_moderation.sql
create or replace function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb default '{}')
  returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason, details)
  values (stream_id, app_public.current_user_id(), action, target_user_id, reason, coalesce(details, '{}'));
$$;
revoke all on function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) from public, anon, authenticated;
comment on function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) is
  'Appends to the moderation log as the current user.';
--! EndIncluded chat/log_moderation.sql
--! Included chat/moderation_target.sql
create or replace function app_private.moderation_target(stream_id uuid, user_id uuid) returns app_public.streams
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.moderation_target(stream_id uuid, user_id uuid) from public, anon, authenticated;
comment on function app_private.moderation_target(stream_id uuid, user_id uuid) is
  'Shared checks for mute/ban: NOAUT, NOFND, DENYD, BADIN.';
--! EndIncluded chat/moderation_target.sql
--! Included chat/mute_user.sql
create or replace function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds int default null, reason text default null)
  returns app_public.stream_mutes
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) from public, anon, authenticated;
grant execute on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) to authenticated;
comment on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) is
  'Mutes a user in a stream for duration_seconds (null = until unmuted); muting again replaces the duration. Broadcaster or moderator only. Errors: NOAUT, NOFND, DENYD, BADIN.';
--! EndIncluded chat/mute_user.sql
--! Included chat/recent_chat_messages.sql
create or replace function app_public.recent_chat_messages(stream_id uuid) returns setof app_public.chat_message
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.recent_chat_messages(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.recent_chat_messages(stream_id uuid) to anon, authenticated;
comment on function app_public.recent_chat_messages(stream_id uuid) is
  'The last 50 chat messages of a stream (newest first), without deleted messages or messages of banned users: what a new viewer sees.';
--! EndIncluded chat/recent_chat_messages.sql
--! Included chat/send_chat_message.sql
create or replace function app_public.send_chat_message(stream_id uuid, body text, client_id text default null)
  returns app_public.chat_message
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.send_chat_message(stream_id uuid, body text, client_id text) from public, anon, authenticated;
grant execute on function app_public.send_chat_message(stream_id uuid, body text, client_id text) to authenticated;
comment on function app_public.send_chat_message(stream_id uuid, body text, client_id text) is
  E'Sends a chat message to a live stream; it reaches viewers as a `chat` event carrying the sender''s identity.\nBody trimmed, 1-500 characters (setting chat_max_length), no control characters. Rate limited per user (1/s, bursts of 5: settings chat_rate_per_second, chat_burst) and by the stream''s slow mode; the broadcaster and moderators are exempt.\nErrors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message).';
--! EndIncluded chat/send_chat_message.sql
--! Included chat/set_slow_mode.sql
create or replace function app_public.set_slow_mode(stream_id uuid, seconds int) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.set_slow_mode(stream_id uuid, seconds integer) from public, anon, authenticated;
grant execute on function app_public.set_slow_mode(stream_id uuid, seconds integer) to authenticated;
comment on function app_public.set_slow_mode(stream_id uuid, seconds integer) is
  'Sets the stream''s chat slow mode (0 = off, up to 3600 seconds between messages per viewer: setting chat_slow_mode_max_seconds). Errors: NOAUT, NOFND, DENYD, BADIN.';
--! EndIncluded chat/set_slow_mode.sql
--! Included chat/tg__chat_restriction_hint.sql
create or replace function app_private.tg__chat_restriction_hint() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  update app_private.user_identities i
     set restricted_in = i.restricted_in || new.stream_id
   where i.user_id = new.user_id and not (new.stream_id = any (i.restricted_in));
  return null;
end;
$$;
revoke all on function app_private.tg__chat_restriction_hint() from public, anon, authenticated;
comment on function app_private.tg__chat_restriction_hint() is
  'Adds the stream of a new (or moved) mute or ban to the user''s restricted_in hint.';
--! EndIncluded chat/tg__chat_restriction_hint.sql
--! Included chat/unban_user.sql
create or replace function app_public.unban_user(stream_id uuid, user_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.unban_user(stream_id uuid, user_id uuid) from public, anon, authenticated;
grant execute on function app_public.unban_user(stream_id uuid, user_id uuid) to authenticated;
comment on function app_public.unban_user(stream_id uuid, user_id uuid) is
  'Lifts a stream ban; false when the user was not banned. Errors: NOAUT, NOFND, DENYD.';
--! EndIncluded chat/unban_user.sql
--! Included chat/unmute_user.sql
create or replace function app_public.unmute_user(stream_id uuid, user_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.unmute_user(stream_id uuid, user_id uuid) from public, anon, authenticated;
grant execute on function app_public.unmute_user(stream_id uuid, user_id uuid) to authenticated;
comment on function app_public.unmute_user(stream_id uuid, user_id uuid) is
  'Lifts a mute; false when the user was not muted. Errors: NOAUT, NOFND, DENYD.';
--! EndIncluded chat/unmute_user.sql
--! Included gifts/broadcaster_gifter_stats.access.sql
-- What each user gave each broadcaster is theirs (finding 8): the gifter, the broadcaster and admins
-- see the rows; everyone else the top list through app_public.top_gifters_of_broadcaster().
drop policy if exists select_all on app_public.broadcaster_gifter_stats;
drop policy if exists select_involved on app_public.broadcaster_gifter_stats;
create policy select_involved on app_public.broadcaster_gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or broadcaster_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.broadcaster_gifter_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_gifter_stats to authenticated;
--! EndIncluded gifts/broadcaster_gifter_stats.access.sql
--! Included gifts/broadcaster_stats.access.sql
-- A broadcaster's takings per period (coins received, earned after the fee) are theirs and the
-- admins' (finding 8). The public leaderboard is app_public.leaderboard(): the current period's top list.
drop policy if exists select_all on app_public.broadcaster_stats;
drop policy if exists select_own on app_public.broadcaster_stats;
create policy select_own on app_public.broadcaster_stats for select to authenticated
  using (broadcaster_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.broadcaster_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_stats to authenticated;
--! EndIncluded gifts/broadcaster_stats.access.sql
--! Included gifts/gift_audit.sql
create or replace function app_private.gift_audit() returns table (invariant text, detail text)
  language sql stable
  set search_path = pg_catalog, pg_temp
  set jit = off  -- JIT compiling this many joins costs more than running them at test and audit sizes
as $$
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
revoke all on function app_private.gift_audit() from public, anon, authenticated;
comment on function app_private.gift_audit() is
  'Invariants of the gift economy; each row returned is a violation (zero rows = healthy). Full scans: run it in tests and audits, not per request.';
--! EndIncluded gifts/gift_audit.sql
--! Included gifts/gift_batch_logs.sql
create or replace function app_public.gift_batch_logs("limit" integer default 50) returns app_public.gift_batch_logs[]
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if not exists (select 1 from app_public.users u where u.id = app_public.current_user_id() and u.role = 'admin') then
    raise exception 'only admins may read gift batch logs' using errcode = 'DENYD';
  end if;
  if $1 is null or $1 not between 1 and 1000 then
    raise exception 'limit must be between 1 and 1000, got %', $1 using errcode = 'BADIN';
  end if;
  return array(select l from app_public.gift_batch_logs l order by l.id desc limit $1);
end;
$$;
revoke all on function app_public.gift_batch_logs("limit" integer) from public, anon, authenticated;
grant execute on function app_public.gift_batch_logs("limit" integer) to authenticated;
comment on function app_public.gift_batch_logs("limit" integer) is
  E'@name giftBatchLogs\nAdmins: the most recent settlement batches, newest first (batch health). Errors: DENYD, BADIN.';
--! EndIncluded gifts/gift_batch_logs.sql
--! Included gifts/gift_receipt_for.sql
create or replace function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer)
  returns app_public.gift_receipt
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if (g.stream_id, g.gift_id, g.quantity) is distinct from (gift_receipt_for.stream_id, gift_receipt_for.gift_id, gift_receipt_for.quantity) then
    raise exception 'idempotency key "%" was already used for another gift (ledger entry %)', g.idempotency_key, g.id
      using errcode = 'IDEMP';
  end if;
  return row(g.id, g.stream_id, g.gift_id, g.quantity, g.coins, (app_private.gift_status(g.id)).status,
             (select w.balance from app_private.wallets w where w.user_id = g.sender_id), true, g.created_at)::app_public.gift_receipt;
end;
$$;
revoke all on function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) from public, anon, authenticated;
comment on function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) is
  'Receipt for a replayed send_gift request; IDEMP when the key was used with other arguments.';
--! EndIncluded gifts/gift_receipt_for.sql
--! Included gifts/gift_setting.sql
create or replace function app_private.gift_setting(key text, fallback integer) returns integer
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_value integer;
begin
  select s.value::integer into v_value from app_private.settings s where s.key = gift_setting.key;
  return coalesce(v_value, fallback);
end;
$$;
revoke all on function app_private.gift_setting(key text, fallback integer) from public, anon, authenticated;
comment on function app_private.gift_setting(key text, fallback integer) is
  'Integer gift setting from app_private.settings: gift_fee_bps (platform fee, basis points), gift_batch_size.';
--! EndIncluded gifts/gift_setting.sql
--! Included gifts/gift_status.sql
create or replace function app_private.gift_status(gift_ledger_id bigint, out status text, out batch_id bigint, out settled_at timestamptz)
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) from public, anon, authenticated;
comment on function app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) is
  'Status of one gift: pending while queued, else settled/failed with the batch (index lookup). Null status: no such gift.';
--! EndIncluded gifts/gift_status.sql
--! Included gifts/grant_coins.sql
create or replace function app_public.grant_coins(user_id uuid, coins integer, reason text) returns app_public.wallet_summary
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.grant_coins(user_id uuid, coins integer, reason text) from public, anon, authenticated;
grant execute on function app_public.grant_coins(user_id uuid, coins integer, reason text) to authenticated;
comment on function app_public.grant_coins(user_id uuid, coins integer, reason text) is
  'Admins: issue coins to a user, with a reason kept in the ledger. Errors: NOAUT, DENYD (not an admin), BADIN, NOFND (no such user).';
--! EndIncluded gifts/grant_coins.sql
--! Included gifts/issue_coins.sql
create or replace function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text default null, note text default null)
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) from public, anon, authenticated;
comment on function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) is
  'Credits new coins (issuer -> user). Idempotent per (kind, reference): a repeat returns the first transaction with duplicate = true.';
--! EndIncluded gifts/issue_coins.sql
--! Included gifts/leaderboard.sql
create or replace function app_public.leaderboard(period text default 'week', "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_public.leaderboard(period text, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.leaderboard(period text, "limit" integer) to anon, authenticated;
comment on function app_public.leaderboard(period text, "limit" integer) is
  'Top broadcasters by coins received in the current period (day, week, month, all_time; UTC boundaries). Reads only materialised stats (SECURITY DEFINER: app_public.broadcaster_stats rows are private to their broadcaster). Errors: BADIN.';
--! EndIncluded gifts/leaderboard.sql
--! Included gifts/my_wallet.sql
create or replace function app_public.my_wallet() returns app_public.wallet_summary
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.my_wallet() from public, anon, authenticated;
grant execute on function app_public.my_wallet() to authenticated;
comment on function app_public.my_wallet() is
  'The signed-in user''s coin balance (0 without a wallet). Errors: NOAUT.';
--! EndIncluded gifts/my_wallet.sql
--! Included gifts/period_start.sql
create or replace function app_public.period_start(period text, at timestamptz default now()) returns timestamptz
  language sql immutable parallel safe
as $$
  select case period
    when 'day' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', at)))
    when 'week' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('week', pg_catalog.timezone('UTC', at)))
    when 'month' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', at)))
    when 'all_time' then pg_catalog.timestamptz '1970-01-01 00:00:00+00'
  end
$$;
revoke all on function app_public.period_start(period text, at timestamp with time zone) from public, anon, authenticated;
grant execute on function app_public.period_start(period text, at timestamp with time zone) to anon, authenticated;
comment on function app_public.period_start(period text, at timestamp with time zone) is
  E'@behavior -queryField\nStart (UTC) of the leaderboard period containing `at`: day, week (ISO, Monday), month, or all_time (the epoch).';
--! EndIncluded gifts/period_start.sql
--! Included gifts/process_gift_ledger_batch.sql
create or replace function app_private.process_gift_ledger_batch(max_rows integer default null) returns app_public.gift_batch_logs
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
  set jit = off  -- a batch is a few short statements; compiling them costs more than it saves
as $$
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
revoke all on function app_private.process_gift_ledger_batch(max_rows integer) from public, anon, authenticated;
comment on function app_private.process_gift_ledger_batch(max_rows integer) is
  'Settles up to max_rows pending gifts (default: setting gift_batch_size) in one transaction: FOR UPDATE SKIP LOCKED, one credit per receiver, fees, stats, one leaderboard event per stream, one gift_batch_logs row. Safe to run concurrently and after a crash (an uncommitted batch leaves its gifts pending).';
--! EndIncluded gifts/process_gift_ledger_batch.sql
--! Included gifts/purchase_coins.sql
create or replace function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer,
                                           amount_cents integer default null, currency text default null, payload jsonb default '{}')
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) from public, anon, authenticated;
comment on function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) is
  'Credits purchased coins for a verified payment-provider event; idempotent on (provider, event id). Called by the webhook route only.';
--! EndIncluded gifts/purchase_coins.sql
--! Included gifts/reverse_gift.sql
create or replace function app_private.reverse_gift(gift_ledger_id bigint, reason text) returns bigint
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
  update app_public.stream_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.stream_id = v_gift.stream_id and s.gifter_id = v_gift.sender_id;
  update app_public.broadcaster_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.broadcaster_id = v_gift.receiver_id and s.gifter_id = v_gift.sender_id;
  return v_tx;
end;
$$;
revoke all on function app_private.reverse_gift(gift_ledger_id bigint, reason text) from public, anon, authenticated;
comment on function app_private.reverse_gift(gift_ledger_id bigint, reason text) is
  'Refund/chargeback of a settled gift: reversing entries (receiver -> sender net, platform -> sender fee) and stats decremented. Idempotent. Errors: NOFND, CONFL (not settled), INSFD (receiver already spent the coins), BADIN.';
--! EndIncluded gifts/reverse_gift.sql
--! Included gifts/send_gift.sql
create or replace function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer default 1, idempotency_key text default null)
  returns app_public.gift_receipt
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) from public, anon, authenticated;
grant execute on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) to authenticated;
comment on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) is
  'Send `quantity` of a catalogue gift to a live stream''s broadcaster. The price comes from the catalogue; the sender is debited at once and the gift is settled to the broadcaster within about 10 s. Idempotent per sender and `idempotencyKey`: the same key with the same arguments returns the original receipt. Errors: NOAUT, BANND, BADIN (quantity 1-1000: setting gift_max_quantity; gift inactive), NOFND (stream or gift), NLIVE, DENYD (own stream), INSFD (cannot pay; nothing recorded), IDEMP (key reused with other arguments).';
--! EndIncluded gifts/send_gift.sql
--! Included gifts/stream_gifter_stats.access.sql
-- What each user spent on each stream is theirs (finding 8): a gifter sees their own rows, the
-- broadcaster the rows of their streams, admins all. Everyone else sees the top list only, through
-- app_public.top_gifters() (and the stream's `leaderboard` events).
drop policy if exists select_all on app_public.stream_gifter_stats;
drop policy if exists select_involved on app_public.stream_gifter_stats;
create policy select_involved on app_public.stream_gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.streams s where s.id = stream_id and s.broadcaster_id = (select app_public.current_user_id()))
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.stream_gifter_stats from public, anon, authenticated;
grant select on table app_public.stream_gifter_stats to authenticated;
--! EndIncluded gifts/stream_gifter_stats.access.sql
--! Included gifts/stream_leaderboard_event.sql
create or replace function app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) returns jsonb
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) from public, anon, authenticated;
--! EndIncluded gifts/stream_leaderboard_event.sql
--! Included gifts/tg_gift_ledger__queue.sql
create or replace function app_private.tg_gift_ledger__queue() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
    values (new.id, new.sender_id, new.receiver_id, new.stream_id, new.quantity, new.coins, new.fee_coins, new.created_at);
  return null;
end;
$$;
revoke all on function app_private.tg_gift_ledger__queue() from public, anon, authenticated;
comment on function app_private.tg_gift_ledger__queue() is
  'Queues every appended gift for settlement, in the same transaction.';
--! EndIncluded gifts/tg_gift_ledger__queue.sql
--! Included gifts/top_gifters.sql
create or replace function app_public.top_gifters(stream_id uuid, "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_public.top_gifters(stream_id uuid, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.top_gifters(stream_id uuid, "limit" integer) to anon, authenticated;
comment on function app_public.top_gifters(stream_id uuid, "limit" integer) is
  'Top gifters of one stream by coins spent (settled gifts), at most 100: the public part of app_public.stream_gifter_stats (SECURITY DEFINER: the rows themselves are private). Errors: BADIN.';
--! EndIncluded gifts/top_gifters.sql
--! Included gifts/top_gifters_of_broadcaster.sql
create or replace function app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) to anon, authenticated;
comment on function app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer) is
  'A broadcaster''s top gifters of all time by coins spent (settled gifts), at most 100: the public part of app_public.broadcaster_gifter_stats (SECURITY DEFINER: the rows themselves are private). Errors: BADIN.';
--! EndIncluded gifts/top_gifters_of_broadcaster.sql
--! Included playback/claim_hls_checks.sql
create or replace function app_private.claim_hls_checks(lease_seconds integer default 30, max_rows integer default 100)
returns table (stream_id uuid, pending text)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  -- A stream that ended has nothing left to switch.
  update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
    from app_public.streams s
   where s.id = p.stream_id and s.status <> 'live' and p.pending is not null;
  return query
    with due as (
      select p.stream_id from app_private.stream_playback p
       where p.check_due_at <= now()
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
revoke all on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) from public, anon, authenticated;
comment on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) is
  'Due checks for the worker (streams__viral_tick enqueues one streams__check_hls job each); leased, not removed.';
--! EndIncluded playback/claim_hls_checks.sql
--! Included playback/configure_playback.sql
create or replace function app_private.configure_playback(
  origin_base_url text,
  cdn_base_url text,
  mux_base_url text default null,
  origin_path_template text default null,
  viral_enter_viewers integer default null,
  viral_exit_viewers integer default null
) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) from public, anon, authenticated;
comment on function app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) is
  'Called by the server at start with PLAYBACK_* config. Null keeps the current value (origin and CDN: null clears).';
--! EndIncluded playback/configure_playback.sql
--! Included playback/configure_stream_playback.sql
create or replace function app_public.configure_stream_playback(
  stream_id uuid,
  hls_provider text,
  mux_playback_id text default null,
  origin_path text default null
) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) from public, anon, authenticated;
grant execute on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) to authenticated;
comment on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) is
  'Sets the stream''s HLS source: mux (playback id), cdn or origin (origin path, default from configuration), or null. Errors: NOAUT, NOFND, DENYD, BADIN, CONFL (on HLS now).';
--! EndIncluded playback/configure_stream_playback.sql
--! Included playback/hls_check_target.sql
create or replace function app_private.hls_check_target(stream_id uuid) returns table (pending text, url text)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select p.pending, app_public.streams_hls_url(s)
    from app_private.stream_playback p
    join app_public.streams s on s.id = p.stream_id
   where p.stream_id = hls_check_target.stream_id and p.pending is not null
$$;
revoke all on function app_private.hls_check_target(stream_id uuid) from public, anon, authenticated;
comment on function app_private.hls_check_target(stream_id uuid) is
  'What the streams__check_hls job must check for the stream (no row: nothing pending).';
--! EndIncluded playback/hls_check_target.sql
--! Included playback/playback_health.sql
-- security_invoker: the view itself never runs as its owner (splinter's security_definer_view); the
-- privileged read is app_hidden.playback_health_rows(), a SECURITY DEFINER function that checks the admin.
create or replace view app_public.playback_health with (security_invoker=true) as
 SELECT h.stream_id, h.title, h.status, h.hls_provider, h.mode, h.pending, h.pending_reason, h.attempts, h.check_due_at,
    h.last_check_at, h.last_check_ok, h.last_check_url, h.last_error, h.alerting, h.failure_reports, h.failure_reports_5m
   FROM app_hidden.playback_health_rows() h(stream_id, title, status, hls_provider, mode, pending, pending_reason, attempts, check_due_at, last_check_at, last_check_ok, last_check_url, last_error, alerting, failure_reports, failure_reports_5m);
revoke all on table app_public.playback_health from public, anon, authenticated;
grant select on table app_public.playback_health to authenticated;
comment on view app_public.playback_health is
  'Admins only: playback state per stream, last health check and why it failed (alerting), failure reports from players.';
comment on column app_public.playback_health.alerting is 'The last health check failed: viewers were kept on the current path; the worker retries.';
--! EndIncluded playback/playback_health.sql
--! Included playback/playback_metrics.sql
create or replace function app_private.playback_metrics() returns table (streams_hls integer, streams_check_failing integer, checks_failed integer, failure_reports integer)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select (select count(*) from app_private.stream_playback where mode = 'hls')::integer,
         (select count(*) from app_private.stream_playback where last_check_ok = false)::integer,
         (select count(*) from app_private.hls_checks where not ok)::integer,
         (select count(*) from app_private.playback_failure_reports)::integer
$$;
revoke all on function app_private.playback_metrics() from public, anon, authenticated;
comment on function app_private.playback_metrics() is
  'Figures for /metrics (trollcity_playback_*).';
--! EndIncluded playback/playback_metrics.sql
--! Included playback/playback_viewer_count.sql
create or replace function app_private.playback_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_count integer;
begin
  if to_regprocedure('app_public.streams_viewer_count(app_public.streams)') is null then
    return null;
  end if;
  execute 'select app_public.streams_viewer_count($1)' using s into v_count;
  return v_count;
end;
$$;
revoke all on function app_private.playback_viewer_count(s app_public.streams) from public, anon, authenticated;
comment on function app_private.playback_viewer_count(s app_public.streams) is
  'The viewer count from app_public.streams_viewer_count when the realtime feature provides it, else null.';
--! EndIncluded playback/playback_viewer_count.sql
--! Included playback/record_hls_check.sql
create or replace function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb default '{}')
returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) from public, anon, authenticated;
comment on function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) is
  'Result of a streams__check_hls job: switches (and publishes a stream_state event) only on a passing check of the current URL; a failure keeps the current path, records why and schedules a retry with backoff.';
--! EndIncluded playback/record_hls_check.sql
--! Included playback/report_playback_failure.sql
create or replace function app_public.report_playback_failure(stream_id uuid, path text, url text default null, reason text default null)
returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) from public, anon, authenticated;
grant execute on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) to anon, authenticated;
comment on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) is
  'A player reports that a path failed (fatal HLS error, playlist 404, stage failure). Counted per stream (at most 60 kept per minute: false when this one was not kept); many HLS failures trigger a re-check. Errors: BADIN, NOFND.';
--! EndIncluded playback/report_playback_failure.sql
--! Included playback/request_transition.sql
create or replace function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) from public, anon, authenticated;
comment on function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) is
  'Sets (or cancels) the pending transition of a stream; the worker checks and switches.';
--! EndIncluded playback/request_transition.sql
--! Included playback/request_viral_mode.sql
create or replace function app_public.request_viral_mode(stream_id uuid, mode text) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
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
  perform 1 from app_private.stream_playback p where p.stream_id = v_stream.id for update;
  if mode = 'hls' and app_public.streams_hls_url(v_stream) is null then
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
revoke all on function app_public.request_viral_mode(stream_id uuid, mode text) from public, anon, authenticated;
grant execute on function app_public.request_viral_mode(stream_id uuid, mode text) to authenticated;
comment on function app_public.request_viral_mode(stream_id uuid, mode text) is
  'Broadcaster/admin: hls asks to switch viewers to HLS (after a health check), stage asks to switch back; both pin the mode. auto hands it back to the viewer-count thresholds. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';
--! EndIncluded playback/request_viral_mode.sql
--! Included playback/scan_viral_thresholds.sql
create or replace function app_private.scan_viral_thresholds() returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.scan_viral_thresholds() from public, anon, authenticated;
comment on function app_private.scan_viral_thresholds() is
  'Applies the thresholds to every live stream using the realtime viewer counts (no-op until they exist).';
--! EndIncluded playback/scan_viral_thresholds.sql
--! Included playback/streams_hls_url.sql
create or replace function app_public.streams_hls_url(s app_public.streams) returns text
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select case p.hls_provider
      when 'mux' then cfg.mux_base_url || '/' || p.mux_playback_id || '.m3u8'
      when 'cdn' then cfg.cdn_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
      when 'origin' then cfg.origin_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
    end
    from app_private.stream_playback p
    cross join app_private.playback_settings cfg
   where p.stream_id = s.id
$$;
revoke all on function app_public.streams_hls_url(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_hls_url(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_hls_url(s app_public.streams) is
  'The stream''s HLS playlist URL derived from configuration (Mux playback id, CDN pull zone + origin path, or self-hosted origin); null when the stream has no HLS source or it is not configured.';
--! EndIncluded playback/streams_hls_url.sql
--! Included playback/streams_playback.sql
create or replace function app_public.streams_playback(s app_public.streams) returns app_public.playback_state
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.streams_playback(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_playback(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_playback(s app_public.streams) is
  'Playback state of the stream: current path and provider, HLS URL, latency mode, pending switch, viewer count.';
--! EndIncluded playback/streams_playback.sql
--! Included realtime/apply_viewer_count.sql
create or replace function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
  if viewer_count >= v_cfg.viral_enter_viewers and app_public.streams_hls_url(v_stream) is not null
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
revoke all on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) from public, anon, authenticated;
comment on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) is
  'Viral-mode thresholds for one stream and its current viewer count; returns the transition it requested.';
--! EndIncluded realtime/apply_viewer_count.sql
--! Included realtime/clear_presence.sql
create or replace function app_private.clear_presence(node_id text) returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  delete from app_private.presence_counts p where p.node_id = clear_presence.node_id;
$$;
revoke all on function app_private.clear_presence(node_id text) from public, anon, authenticated;
comment on function app_private.clear_presence(node_id text) is
  'A Node process shutting down removes its presence rows.';
--! EndIncluded realtime/clear_presence.sql
--! Included realtime/flush_presence.sql
create or replace function app_private.flush_presence(node_id text, counts jsonb) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.flush_presence(node_id text, counts jsonb) from public, anon, authenticated;
comment on function app_private.flush_presence(node_id text, counts jsonb) is
  'A Node process reports its live connections per stream ({"<stream id>": n}); streams it no longer serves are removed. Called every few seconds, also as a liveness signal.';
--! EndIncluded realtime/flush_presence.sql
--! Included realtime/next_stream_event_batches.sql
create or replace function app_private.next_stream_event_batches(max_events int default 10000, max_payload int default 7900)
  returns table (stream_id uuid, payload text, events int)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.next_stream_event_batches(max_events integer, max_payload integer) from public, anon, authenticated;
comment on function app_private.next_stream_event_batches(max_events integer, max_payload integer) is
  'Numbers up to max_events pending outbox events in delivery order (seq) and returns them as per-stream JSON batches {"stream_id", "events": [{id, kind, at, payload}]} of at most max_payload bytes each.';
--! EndIncluded realtime/next_stream_event_batches.sql
--! Included realtime/prune_stream_events.sql
create or replace function app_private.prune_stream_events() returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_secs int;
  v_n int;
begin
  update app_private.relay_state set pruned_at = now() where pruned_at <= now() - interval '5 seconds';
  if not found then
    return 0;
  end if;
  select coalesce(max(value)::int, 120) into v_secs from app_private.settings where key = 'stream_events_retention_seconds';
  delete from app_private.stream_events e where e.created_at < now() - make_interval(secs => v_secs);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
revoke all on function app_private.prune_stream_events() from public, anon, authenticated;
comment on function app_private.prune_stream_events() is
  'Deletes outbox events older than the stream_events_retention_seconds setting (default 120; the catch-up window); at most every 5 s.';
--! EndIncluded realtime/prune_stream_events.sql
--! Included realtime/publish_viewer_counts.sql
create or replace function app_private.publish_viewer_counts() returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_n int;
begin
  update app_private.relay_state set counts_at = now() where counts_at <= now() - interval '1 second';
  if not found then
    return 0;
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
revoke all on function app_private.publish_viewer_counts() from public, anon, authenticated;
comment on function app_private.publish_viewer_counts() is
  'Turns fresh presence counts into viewer_count events for streams whose count changed; at most once per second.';
--! EndIncluded realtime/publish_viewer_counts.sql
--! Included realtime/relay_stream_events.sql
create or replace function app_private.relay_stream_events(max_events int default 10000, max_payload int default 7900)
  returns table (notifies int, events int)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.relay_stream_events(max_events integer, max_payload integer) from public, anon, authenticated;
comment on function app_private.relay_stream_events(max_events integer, max_payload integer) is
  'Relay tick (every 50-100 ms from each server process; one runs at a time under an advisory lock, the others skip): publishes viewer counts, then sends one NOTIFY per stream batch on channel stream_events:<stream id>. Returns (notifies, events).';
--! EndIncluded realtime/relay_stream_events.sql
--! Included realtime/stream_events_since.sql
create or replace function app_public.stream_events_since(stream_id uuid, after_id bigint) returns setof app_public.stream_event
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select e.seq, e.kind, e.created_at, e.payload
    from app_private.stream_events e
   where e.stream_id = stream_events_since.stream_id and e.seq > coalesce(after_id, 0)
   order by e.seq
   limit 1000
$$;
revoke all on function app_public.stream_events_since(stream_id uuid, after_id bigint) from public, anon, authenticated;
grant execute on function app_public.stream_events_since(stream_id uuid, after_id bigint) to anon, authenticated;
comment on function app_public.stream_events_since(stream_id uuid, after_id bigint) is
  'Catch-up after a reconnect: relayed events of a stream with id > after_id, oldest first, at most 1000. Ids are shared by all streams, so gaps are normal. Events are kept for the stream_events_retention_seconds setting (default 120); after a longer absence reload recentChatMessages instead.';
--! EndIncluded realtime/stream_events_since.sql
--! Included realtime/streams_viewer_count.sql
create or replace function app_public.streams_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return (select coalesce(sum(p.viewers), 0)::int
            from app_private.presence_counts p
           where p.stream_id = s.id and p.updated_at > now() - interval '15 seconds');
end;
$$;
revoke all on function app_public.streams_viewer_count(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_viewer_count(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_viewer_count(s app_public.streams) is
  'Viewers connected now (broadcast sockets and streamEvents subscriptions over all server processes), at most a few seconds old.';
--! EndIncluded realtime/streams_viewer_count.sql
--! Included shared/add_job.sql
create or replace function app_private.add_job(task text, payload json, run_at timestamptz, job_key text, queue_name text default null) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  if to_regnamespace('graphile_worker') is null then
    raise exception 'graphile_worker is not installed: start the worker once (npm start or npm run worker)' using errcode = 'CONFG';
  end if;
  perform graphile_worker.add_job(task, payload, queue_name, run_at, 25, job_key);
end;
$$;
revoke all on function app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) from public, anon, authenticated;
comment on function app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) is
  'Enqueue a graphile-worker job (replacing a pending one with the same key; jobs of one named queue run one at a time). CONFG when the worker schema is missing.';
--! EndIncluded shared/add_job.sql
--! Included shared/tg__append_only.sql
create or replace function app_private.tg__append_only() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  raise exception '%.% is append-only: % is not allowed (reverse with new entries instead)',
    tg_table_schema, tg_table_name, lower(tg_op) using errcode = 'DENYD';
end;
$$;
revoke all on function app_private.tg__append_only() from public, anon, authenticated;
comment on function app_private.tg__append_only() is
  'Rejects UPDATE/DELETE/TRUNCATE on ledger tables; corrections are new, reversing entries.';
--! EndIncluded shared/tg__append_only.sql
--! Included shared/tg__timestamps.sql
create or replace function app_private.tg__timestamps() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now() then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$;
revoke all on function app_private.tg__timestamps() from public, anon, authenticated;
comment on function app_private.tg__timestamps() is
  'Keeps created_at/updated_at honest whatever the client sends.';
--! EndIncluded shared/tg__timestamps.sql
--! Included stage/accept_seat.sql
create or replace function app_public.accept_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.accept_seat(seat_id uuid) from public, anon, authenticated;
grant execute on function app_public.accept_seat(seat_id uuid) to authenticated;
comment on function app_public.accept_seat(seat_id uuid) is
  'Accepts an invitation: the caller may publish on stage until the seat is left, revoked or expires. Errors: NOAUT, BANND, NOFND (no open invitation), DENYD (offered to someone else), NLIVE.';
--! EndIncluded stage/accept_seat.sql
--! Included stage/expire_due_seats.sql
create or replace function app_private.expire_due_seats(stream_id uuid) returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.stream_id = expire_due_seats.stream_id and s.status in ('invited', 'active') and s.expires_at <= now();
$$;
revoke all on function app_private.expire_due_seats(stream_id uuid) from public, anon, authenticated;
comment on function app_private.expire_due_seats(stream_id uuid) is
  'Marks a stream''s overdue open seats expired (before new seats take slots).';
--! EndIncluded stage/expire_due_seats.sql
--! Included stage/expire_seat.sql
create or replace function app_private.expire_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.expire_seat(seat_id uuid) from public, anon, authenticated;
comment on function app_private.expire_seat(seat_id uuid) is
  'Worker: marks the seat expired when it is due; returns the seat (null when gone).';
--! EndIncluded stage/expire_seat.sql
--! Included stage/invite_to_seat.sql
create or replace function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer default null, duration_seconds integer default null)
  returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) from public, anon, authenticated;
grant execute on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) to authenticated;
comment on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) is
  'Invites a user to a seat on the stage (the lowest free slot unless one is given). The invitation expires after 2 minutes (setting stage_invitation_seconds); the seat lasts duration_seconds once accepted (null: until left or revoked). Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, NLIVE, BADIN, SEATF (already seated, slot taken, stage full).';
--! EndIncluded stage/invite_to_seat.sql
--! Included stage/leave_seat.sql
create or replace function app_public.leave_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.leave_seat(seat_id uuid) from public, anon, authenticated;
grant execute on function app_public.leave_seat(seat_id uuid) to authenticated;
comment on function app_public.leave_seat(seat_id uuid) is
  'Leaves a seat or declines an invitation (idempotent). Errors: NOAUT, NOFND, DENYD (someone else''s seat).';
--! EndIncluded stage/leave_seat.sql
--! Included stage/livekit_grant.sql
create or replace function app_public.livekit_grant(stream_id uuid) returns app_public.livekit_grant
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return app_private.livekit_grant_for(livekit_grant.stream_id, app_public.current_user_id());
end;
$$;
revoke all on function app_public.livekit_grant(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.livekit_grant(stream_id uuid) to anon, authenticated;
comment on function app_public.livekit_grant(stream_id uuid) is
  'The caller''s LiveKit grant for a stream, from database state only (never from the request). Errors: NOAUT (anonymous), BANND, NOFND, NLIVE (stream ended).';
--! EndIncluded stage/livekit_grant.sql
--! Included stage/livekit_grant_for.sql
create or replace function app_private.livekit_grant_for(stream_id uuid, user_id uuid) returns app_public.livekit_grant
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
  v_seat_expires timestamptz;
  v_on_seat boolean := false;
  v_publish boolean;
  v_ttl integer;
begin
  if user_id is null then
    raise exception 'sign in to join a stage' using errcode = 'NOAUT';
  end if;
  select * into v_user from app_public.users u where u.id = livekit_grant_for.user_id;
  if v_user.id is null then
    raise exception 'user % not found: sign in again', user_id using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  select * into v_stream from app_public.streams s where s.id = livekit_grant_for.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
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
revoke all on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) from public, anon, authenticated;
comment on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) is
  'The LiveKit grant of a user in a stream''s room (server side: token minting, webhooks, enforcement). Errors: NOAUT, BANND, NOFND, NLIVE.';
--! EndIncluded stage/livekit_grant_for.sql
--! Included stage/manages_stage.sql
create or replace function app_private.manages_stage(stream app_public.streams, actor app_public.users) returns boolean
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select actor.id = stream.broadcaster_id or actor.role in ('moderator', 'admin')
$$;
revoke all on function app_private.manages_stage(stream app_public.streams, actor app_public.users) from public, anon, authenticated;
comment on function app_private.manages_stage(stream app_public.streams, actor app_public.users) is
  'Invites and revokes seats: the stream''s broadcaster, moderators and admins.';
--! EndIncluded stage/manages_stage.sql
--! Included stage/revoke_seat.sql
create or replace function app_public.revoke_seat(seat_id uuid, reason text) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.revoke_seat(seat_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.revoke_seat(seat_id uuid, reason text) to authenticated;
comment on function app_public.revoke_seat(seat_id uuid, reason text) is
  'Takes a seat away (idempotent): the guest is ejected from the stage at LiveKit within a second. Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, BADIN.';
--! EndIncluded stage/revoke_seat.sql
--! Included stage/set_seat_cap.sql
create or replace function app_public.set_seat_cap(stream_id uuid, seat_cap integer) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) from public, anon, authenticated;
grant execute on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) to authenticated;
comment on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) is
  'Sets how many guest seats the stage has (0-12: setting stage_max_seats). Errors: NOAUT, BANND, NOFND, DENYD, BADIN, SEATF (open seats above the cap).';
--! EndIncluded stage/set_seat_cap.sql
--! Included stage/tg_stream_seats__enqueue.sql
create or replace function app_private.tg_stream_seats__enqueue() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.tg_stream_seats__enqueue() from public, anon, authenticated;
comment on function app_private.tg_stream_seats__enqueue() is
  'Publishes a seat event on every status change and enqueues stream_seats__enforce (now, and at expiry).';
--! EndIncluded stage/tg_stream_seats__enqueue.sql
--! Included stage/tg_streams__end_seats.sql
create or replace function app_private.tg_streams__end_seats() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  update app_public.stream_seats s
     set status = 'ended', ended_at = now(), end_reason = 'stream ended'
   where s.stream_id = new.id and s.status in ('invited', 'active');
  return null;
end;
$$;
revoke all on function app_private.tg_streams__end_seats() from public, anon, authenticated;
comment on function app_private.tg_streams__end_seats() is
  'Ends every open seat when its stream ends.';
--! EndIncluded stage/tg_streams__end_seats.sql
--! Included streams/end_stream.sql
create or replace function app_public.end_stream(stream_id uuid) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.end_stream(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.end_stream(stream_id uuid) to authenticated;
comment on function app_public.end_stream(stream_id uuid) is
  'Ends a live stream (idempotent). Errors: NOAUT, NOFND, DENYD (not the broadcaster or an admin).';
--! EndIncluded streams/end_stream.sql
--! Included streams/go_live.sql
create or replace function app_public.go_live(title text) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_public.go_live(title text) from public, anon, authenticated;
grant execute on function app_public.go_live(title text) to authenticated;
comment on function app_public.go_live(title text) is
  'Starts a live stream owned by the caller. Errors: NOAUT, BANND, DENYD (not a broadcaster), BADIN, CONFL (already live).';
--! EndIncluded streams/go_live.sql
--! Included streams/live_streams.sql
create or replace function app_public.live_streams() returns setof app_public.streams
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.streams s where s.status = 'live' order by s.started_at desc
$$;
revoke all on function app_public.live_streams() from public, anon, authenticated;
grant execute on function app_public.live_streams() to anon, authenticated;
comment on function app_public.live_streams() is
  'Streams that are live now, newest first.';
--! EndIncluded streams/live_streams.sql

-- Finding 7: one rule for every single-line text field, app_hidden.clean_line() in the functions and
-- app_hidden.is_clean_line() as a CHECK on the columns.
-- Old rows that break the rule are repaired first (the offending characters removed), so the
-- constraints are validated. Chat's buffer holds minutes of messages: its constraint is NOT VALID
-- (rows already there age out; every new row is checked).
update app_public.streams set title = coalesce(left(app_hidden.strip_hidden(title), 140), 'Untitled')
 where not app_hidden.is_clean_line(title);
update app_public.users set display_name = coalesce(left(app_hidden.strip_hidden(display_name), 64), username)
 where not app_hidden.is_clean_line(display_name);
update app_public.users set vehicle_status = left(app_hidden.strip_hidden(vehicle_status), 40)
 where not app_hidden.is_clean_line(vehicle_status);
update app_public.users set avatar_url = null where avatar_url !~ '^https?://[!-~]+$' or char_length(avatar_url) > 2000;
update app_public.stream_seats set end_reason = left(app_hidden.strip_hidden(end_reason), 200)
 where not app_hidden.is_clean_line(end_reason);
update app_public.stream_bans set reason = left(app_hidden.strip_hidden(reason), 500) where not app_hidden.is_clean_line(reason);
update app_public.stream_mutes set reason = left(app_hidden.strip_hidden(reason), 500) where not app_hidden.is_clean_line(reason);
update app_public.moderation_actions set reason = left(app_hidden.strip_hidden(reason), 500)
 where not app_hidden.is_clean_line(reason) or char_length(reason) > 500;
update app_public.gifts set name = coalesce(left(app_hidden.strip_hidden(name), 40), slug) where not app_hidden.is_clean_line(name);

drop trigger if exists _200_clean_text on app_public.users;
create trigger _200_clean_text before insert or update of display_name, vehicle_status, avatar_url on app_public.users
  for each row execute function app_private.tg_users__clean_text();

alter table app_public.streams drop constraint if exists streams_title_clean;
alter table app_public.streams add constraint streams_title_clean check (app_hidden.is_clean_line(title));
alter table app_public.users drop constraint if exists users_display_name_clean;
alter table app_public.users add constraint users_display_name_clean check (app_hidden.is_clean_line(display_name));
alter table app_public.users drop constraint if exists users_vehicle_status_clean;
alter table app_public.users add constraint users_vehicle_status_clean check (app_hidden.is_clean_line(vehicle_status));
alter table app_public.users drop constraint if exists users_avatar_url_check;
alter table app_public.users add constraint users_avatar_url_check
  check (avatar_url ~ '^https?://[!-~]+$' and char_length(avatar_url) <= 2000);
alter table app_public.stream_seats drop constraint if exists stream_seats_end_reason_clean;
alter table app_public.stream_seats add constraint stream_seats_end_reason_clean check (app_hidden.is_clean_line(end_reason));
alter table app_public.stream_bans drop constraint if exists stream_bans_reason_clean;
alter table app_public.stream_bans add constraint stream_bans_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.stream_mutes drop constraint if exists stream_mutes_reason_clean;
alter table app_public.stream_mutes add constraint stream_mutes_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.moderation_actions drop constraint if exists moderation_actions_reason_check;
alter table app_public.moderation_actions add constraint moderation_actions_reason_check check (char_length(reason) <= 500);
alter table app_public.moderation_actions drop constraint if exists moderation_actions_reason_clean;
alter table app_public.moderation_actions add constraint moderation_actions_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.gifts drop constraint if exists gifts_name_clean;
alter table app_public.gifts add constraint gifts_name_clean check (app_hidden.is_clean_line(name));
alter table app_private.chat_messages drop constraint if exists chat_messages_body_clean;
alter table app_private.chat_messages add constraint chat_messages_body_clean check (app_hidden.is_clean_line(body)) not valid;

-- unindexed_foreign_keys: the ledger's user and gift references (partial: most rows have no user on one side).
create index if not exists coin_transactions_debit_user_id_idx on app_private.coin_transactions (debit_user_id)
  where debit_user_id is not null;
create index if not exists coin_transactions_credit_user_id_idx on app_private.coin_transactions (credit_user_id)
  where credit_user_id is not null;
create index if not exists coin_transactions_gift_ledger_id_idx on app_private.coin_transactions (gift_ledger_id)
  where gift_ledger_id is not null;
-- plpgsql_check (test/integration/plpgsql-check.test.ts): unread variables (also send_chat_message,
-- included above), and the settlement's temp table declared for the checker.
--! Included playback/request_viral_mode.sql
create or replace function app_public.request_viral_mode(stream_id uuid, mode text) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
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
  perform 1 from app_private.stream_playback p where p.stream_id = v_stream.id for update;
  if mode = 'hls' and app_public.streams_hls_url(v_stream) is null then
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
revoke all on function app_public.request_viral_mode(stream_id uuid, mode text) from public, anon, authenticated;
grant execute on function app_public.request_viral_mode(stream_id uuid, mode text) to authenticated;
comment on function app_public.request_viral_mode(stream_id uuid, mode text) is
  'Broadcaster/admin: hls asks to switch viewers to HLS (after a health check), stage asks to switch back; both pin the mode. auto hands it back to the viewer-count thresholds. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';
--! EndIncluded playback/request_viral_mode.sql
--! Included gifts/process_gift_ledger_batch.sql
create or replace function app_private.process_gift_ledger_batch(max_rows integer default null) returns app_public.gift_batch_logs
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
  set jit = off  -- a batch is a few short statements; compiling them costs more than it saves
as $$
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
revoke all on function app_private.process_gift_ledger_batch(max_rows integer) from public, anon, authenticated;
comment on function app_private.process_gift_ledger_batch(max_rows integer) is
  'Settles up to max_rows pending gifts (default: setting gift_batch_size) in one transaction: FOR UPDATE SKIP LOCKED, one credit per receiver, fees, stats, one leaderboard event per stream, one gift_batch_logs row. Safe to run concurrently and after a crash (an uncommitted batch leaves its gifts pending).';
--! EndIncluded gifts/process_gift_ledger_batch.sql
