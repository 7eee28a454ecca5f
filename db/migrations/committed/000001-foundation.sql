--! Previous: -
--! Hash: sha1:2fb0121f8e40a36607980372f3245f5e6b497d7f
--! Message: foundation

-- Foundation: schemas, request roles' privileges, identity, users, streams, built-in auth, worker heartbeat.
--
-- Why it is shaped so: the database is the app server. Request roles (anon, authenticated) reach only
-- app_public (exposed) and app_hidden (helpers); money, secrets and internals live in app_private,
-- which they cannot even look into. Identity comes from the verified JWT claims that PostGraphile and
-- PostgREST both put in `request.jwt.claims`. Roles themselves are cluster-wide and created by the
-- setup step (db/setup.sql), not here.

-- Lock the doors first: nothing is executable or usable unless granted below.
revoke all on schema public from public;
alter default privileges revoke all on sequences from public;
alter default privileges revoke execute on functions from public;

-- Extensions live in public (trusted extensions: the database owner may create them).
create extension if not exists pgcrypto with schema public;

create schema app_public;
create schema app_hidden;
create schema app_private;

-- Request roles may resolve names in public (extension types/functions), app_public and app_hidden.
-- They get no usage at all on app_private.
grant usage on schema public, app_public, app_hidden to anon, authenticated;

comment on schema app_public is 'The API: every table, view and function here is served by PostGraphile and PostgREST.';
comment on schema app_hidden is 'Helpers the request roles may call but that are not part of the API surface.';
comment on schema app_private is 'Money, secrets and internals: request roles have no usage on this schema.';

--------------------------------------------------------------------------------
-- Errors: raise with our five-character SQLSTATEs (docs/error_codes.md).
--------------------------------------------------------------------------------

--------------------------------------------------------------------------------
-- Identity
--------------------------------------------------------------------------------

create function app_public.current_user_id() returns uuid
  language sql stable parallel safe
  set search_path = ''
as $$
  select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid
$$;
grant execute on function app_public.current_user_id() to anon, authenticated;
comment on function app_public.current_user_id() is
  E'@behavior -queryField\nThe signed-in user''s id, from the verified JWT claims (`sub`); null when anonymous.';

create type app_public.app_role as enum ('viewer', 'broadcaster', 'moderator', 'admin');
comment on type app_public.app_role is 'What a user may do in the app; data on the user, checked in SQL.';

--------------------------------------------------------------------------------
-- Shared trigger functions
--------------------------------------------------------------------------------

create function app_private.tg__timestamps() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now() then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$;
comment on function app_private.tg__timestamps() is 'Keeps created_at/updated_at honest whatever the client sends.';

--------------------------------------------------------------------------------
-- Users
--------------------------------------------------------------------------------

create table app_public.users (
  id uuid primary key default gen_random_uuid(),
  username text not null check (username ~ '^[A-Za-z][A-Za-z0-9_]{2,23}$'),
  display_name text not null check (char_length(display_name) between 1 and 64),
  avatar_url text check (avatar_url ~ '^https?://[^\s]+$'),
  role app_public.app_role not null default 'viewer',
  is_banned boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table app_public.users enable row level security;
alter table app_public.users force row level security;
create unique index users_username_lower_key on app_public.users (lower(username));
create trigger _100_timestamps before insert or update on app_public.users
  for each row execute function app_private.tg__timestamps();
-- Profiles are public: every viewer renders names and avatars next to chat and gifts.
create policy select_all on app_public.users for select using (true);
-- A user edits only their own profile (and only the columns granted below).
create policy update_self on app_public.users for update to authenticated
  using (id = (select app_public.current_user_id()))
  with check (id = (select app_public.current_user_id()));
grant select on app_public.users to anon, authenticated;
grant update (display_name, avatar_url) on app_public.users to authenticated;
comment on table app_public.users is 'A person using Troll City: public profile and app role.';
comment on column app_public.users.id is 'Stable id; the JWT `sub`.';
comment on column app_public.users.username is 'Unique (case-insensitive) handle: a letter, then 2-23 letters, digits or underscores.';
comment on column app_public.users.display_name is 'Name shown in chat and on stage.';
comment on column app_public.users.avatar_url is 'http(s) URL of the avatar image.';
comment on column app_public.users.role is 'App role: viewer, broadcaster, moderator or admin.';
comment on column app_public.users.is_banned is 'Banned users cannot sign in, chat, gift or join a stage.';

create table app_private.user_secrets (
  user_id uuid primary key references app_public.users (id) on delete cascade,
  email text not null check (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  password_hash text not null,
  last_login_at timestamptz
);
create unique index user_secrets_email_lower_key on app_private.user_secrets (lower(email));
comment on table app_private.user_secrets is 'E-mail and bcrypt password hash; never exposed.';

create function app_public.current_user() returns app_public.users
  language sql stable
  set search_path = ''
as $$
  select u.* from app_public.users u where u.id = app_public.current_user_id()
$$;
grant execute on function app_public.current_user() to anon, authenticated;
comment on function app_public.current_user() is 'The signed-in user, or null.';

--------------------------------------------------------------------------------
-- Built-in auth: HS256 JWTs signed in SQL so PostGraphile and PostgREST issue identical tokens.
--------------------------------------------------------------------------------

create table app_private.settings (
  key text primary key,
  value text not null
);
comment on table app_private.settings is 'Server-written configuration (JWT secret, audience, token lifetime). Never exposed.';

create function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) returns void
  language plpgsql
  set search_path = ''
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
comment on function app_private.configure_auth(text, text, integer) is 'Called by the server at start with its validated config.';

create function app_private.base64url(data bytea) returns text
  language sql immutable strict parallel safe
  set search_path = ''
as $$
  select translate(rtrim(replace(encode(data, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;

create function app_private.sign_jwt(user_id uuid) returns text
  language plpgsql stable
  set search_path = ''
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
comment on function app_private.sign_jwt(uuid) is 'HS256 token for the API: role authenticated, sub = user id, short-lived.';

create function app_public.register(username text, email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
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
$$;
grant execute on function app_public.register(text, text, text) to anon;
comment on function app_public.register(text, text, text) is
  'Creates an account (app role viewer) and returns a signed JWT. Errors: BADIN invalid input, CONFL username or email taken.';

create function app_public.login(username_or_email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
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
grant execute on function app_public.login(text, text) to anon;
comment on function app_public.login(text, text) is
  'Signs in and returns a short-lived JWT. Errors: CREDS wrong credentials, BANND banned.';

--------------------------------------------------------------------------------
-- Streams
--------------------------------------------------------------------------------

create table app_public.streams (
  id uuid primary key default gen_random_uuid(),
  broadcaster_id uuid not null references app_public.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 140),
  status text not null default 'live' check (status in ('live', 'ended')),
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((status = 'ended') = (ended_at is not null))
);
alter table app_public.streams enable row level security;
alter table app_public.streams force row level security;
create index streams_broadcaster_id_idx on app_public.streams (broadcaster_id);
create unique index streams_one_live_per_broadcaster on app_public.streams (broadcaster_id) where status = 'live';
create trigger _100_timestamps before insert or update on app_public.streams
  for each row execute function app_private.tg__timestamps();
-- Streams are public: anyone may browse and watch.
create policy select_all on app_public.streams for select using (true);
grant select on app_public.streams to anon, authenticated;
comment on table app_public.streams is 'One broadcast. Created by go_live, closed by end_stream.';
comment on column app_public.streams.broadcaster_id is 'The user who owns the stream and publishes on its stage.';
comment on column app_public.streams.status is 'live or ended.';

create function app_public.go_live(title text) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
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
grant execute on function app_public.go_live(text) to authenticated;
comment on function app_public.go_live(text) is
  'Starts a live stream owned by the caller. Errors: NOAUT, BANND, DENYD (not a broadcaster), BADIN, CONFL (already live).';

create function app_public.end_stream(stream_id uuid) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
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
grant execute on function app_public.end_stream(uuid) to authenticated;
comment on function app_public.end_stream(uuid) is
  'Ends a live stream (idempotent). Errors: NOAUT, NOFND, DENYD (not the broadcaster or an admin).';

--------------------------------------------------------------------------------
-- Worker heartbeat (for /readyz)
--------------------------------------------------------------------------------

create table app_private.worker_heartbeats (
  worker_id text primary key,
  beat_at timestamptz not null default now()
);
comment on table app_private.worker_heartbeats is 'Written by the worker__heartbeat job; /readyz wants a fresh row.';
