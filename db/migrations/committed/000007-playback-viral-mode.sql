--! Previous: sha1:3eb291606bac6c2ba600ad6e456919f95aa2fd06
--! Hash: sha1:ec95ea46f2b966b4423bb149f027818d216940c4
--! Message: playback viral mode

--! split: 400-playback.sql
-- Playback: the WebRTC stage (LiveKit) and HLS viral mode that never serves a broken link.
--
-- Why it is shaped so: the old player switched everyone to a CDN path that was not mapped to the
-- origin and got 404 at peak audience. Here
--   * the HLS URL is derived in ONE function (`app_public.streams_hls_url`) from configuration
--     (Mux: `<mux base>/<playback id>.m3u8`; CDN pull zone: its host + the origin path; self-hosted
--     origin: origin base + path). Every client, the worker's health check and the switch use it;
--   * a stream moves to HLS only after a worker job fetched exactly that URL (HTTP 200, a parseable
--     master or media playlist, a reachable segment) and reported success through
--     `app_private.record_hls_check`; the switch is announced as a `stream_state` event;
--   * a failed check leaves viewers where they are, records why, is visible to admins
--     (`app_public.playback_health`, metric `trollcity_playback_streams_check_failing`) and is retried
--     with exponential backoff;
--   * the state machine lives in `app_private.stream_playback` (mode + one pending transition), and is
--     driven by thresholds on the viewer count (with hysteresis), by broadcaster/admin requests and by
--     players' failure reports. SQL never talks to the job queue: it sets `check_due_at`, and the
--     `streams__viral_tick` loop claims due checks and enqueues `streams__check_hls` jobs.

drop view if exists app_public.playback_health;
drop function if exists app_public.report_playback_failure(uuid, text, text, text);
drop function if exists app_public.request_viral_mode(uuid, text);
drop function if exists app_public.configure_stream_playback(uuid, text, text, text);
drop function if exists app_private.playback_metrics();
drop function if exists app_private.record_hls_check(uuid, text, boolean, text, jsonb);
drop function if exists app_private.hls_check_target(uuid);
drop function if exists app_private.claim_hls_checks(integer, integer);
drop function if exists app_private.scan_viral_thresholds();
drop function if exists app_private.apply_viewer_count(uuid, integer);
drop function if exists app_private.request_transition(uuid, text, text, uuid);
drop function if exists app_public.streams_playback(app_public.streams);
drop type if exists app_public.playback_state;
drop function if exists app_public.streams_hls_url(app_public.streams);
drop function if exists app_private.playback_viewer_count(app_public.streams);
drop function if exists app_private.configure_playback(text, text, text, text, integer, integer);
drop table if exists app_private.playback_failure_reports;
drop table if exists app_private.hls_checks;
drop table if exists app_private.stream_playback;
drop table if exists app_private.playback_settings;

--------------------------------------------------------------------------------
-- Configuration (one row): where HLS lives and when to go viral.
--------------------------------------------------------------------------------

create table app_private.playback_settings (
  id boolean primary key default true check (id),
  mux_base_url text not null default 'https://stream.mux.com' check (mux_base_url ~ '^https?://[^\s/?#]+$'),
  origin_base_url text check (origin_base_url ~ '^https?://[^\s/?#]+(/[^\s?#]*[^\s?#/])?$'),
  cdn_base_url text check (cdn_base_url ~ '^https?://[^\s/?#]+(/[^\s?#]*[^\s?#/])?$'),
  origin_path_template text not null default '/live/{stream_id}/index.m3u8'
    check (origin_path_template ~ '^/[^\s?#]*\.m3u8$'),
  viral_enter_viewers integer not null default 1000 check (viral_enter_viewers > 0),
  viral_exit_viewers integer not null default 500 check (viral_exit_viewers >= 0),
  retry_base_seconds integer not null default 15 check (retry_base_seconds between 1 and 3600),
  retry_max_seconds integer not null default 300 check (retry_max_seconds between 1 and 86400),
  verify_after_failures integer not null default 20 check (verify_after_failures > 0),
  check (viral_exit_viewers < viral_enter_viewers),
  check (retry_base_seconds <= retry_max_seconds)
);
insert into app_private.playback_settings default values;
comment on table app_private.playback_settings is
  'Playback configuration (one row). cdn_base_url is a pull zone whose origin is origin_base_url: a CDN URL is its host + the stream''s origin path.';
comment on column app_private.playback_settings.viral_enter_viewers is 'Viewer count at or above which a stream asks to switch to HLS.';
comment on column app_private.playback_settings.viral_exit_viewers is 'Viewer count below which a stream switched by threshold asks to switch back to the stage (hysteresis).';
comment on column app_private.playback_settings.verify_after_failures is 'HLS failure reports within a minute that trigger a re-check of a stream already on HLS.';

create function app_private.configure_playback(
  origin_base_url text,
  cdn_base_url text,
  mux_base_url text default null,
  origin_path_template text default null,
  viral_enter_viewers integer default null,
  viral_exit_viewers integer default null
) returns void
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.configure_playback(text, text, text, text, integer, integer) is
  'Called by the server at start with PLAYBACK_* config. Null keeps the current value (origin and CDN: null clears).';

--------------------------------------------------------------------------------
-- Per-stream playback: HLS source and the viral-mode state machine.
--------------------------------------------------------------------------------

create table app_private.stream_playback (
  stream_id uuid primary key references app_public.streams (id) on delete cascade,
  -- Where the stream's HLS comes from (null: no HLS, the stage only).
  hls_provider text check (hls_provider in ('mux', 'cdn', 'origin')),
  mux_playback_id text check (mux_playback_id ~ '^[A-Za-z0-9]{1,64}$'),
  -- Path of the master (or media) playlist on the origin; null: from origin_path_template.
  origin_path text check (origin_path ~ '^/[^\s?#]*\.m3u8$'),
  -- State machine: current path + at most one pending transition.
  mode text not null default 'stage' check (mode in ('stage', 'hls')),
  mode_reason text check (mode_reason in ('threshold', 'request')),
  pinned boolean not null default false,
  switched_at timestamptz,
  pending text check (pending in ('to_hls', 'to_stage', 'verify')),
  pending_reason text check (pending_reason in ('threshold', 'request', 'failures', 'config')),
  requested_by uuid references app_public.users (id) on delete set null,
  requested_at timestamptz,
  check_due_at timestamptz,
  attempts integer not null default 0 check (attempts >= 0),
  last_check_at timestamptz,
  last_check_ok boolean,
  last_check_url text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (hls_provider is distinct from 'mux' or mux_playback_id is not null),
  check ((pending is null) = (check_due_at is null)),
  check ((pending is null) = (pending_reason is null))
);
create index stream_playback_requested_by_idx on app_private.stream_playback (requested_by);
create index stream_playback_check_due_idx on app_private.stream_playback (check_due_at) where check_due_at is not null;
create trigger _100_timestamps before insert or update on app_private.stream_playback
  for each row execute function app_private.tg__timestamps();
comment on table app_private.stream_playback is
  'Per stream: HLS source (provider and ids) and viral-mode state (mode stage|hls, one pending transition, last check).';
comment on column app_private.stream_playback.pinned is 'Set by a broadcaster/admin request: thresholds leave the mode alone until a request for auto.';

create table app_private.hls_checks (
  id bigint generated always as identity primary key,
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  purpose text not null check (purpose in ('to_hls', 'to_stage', 'verify')),
  url text,
  ok boolean not null,
  error text,
  detail jsonb not null default '{}',
  checked_at timestamptz not null default now()
);
create index hls_checks_stream_id_idx on app_private.hls_checks (stream_id, checked_at desc);
comment on table app_private.hls_checks is 'Every health check the worker ran and what it found (history for admins).';

-- Unlogged: failure reports are diagnostics counted per stream; an insert per report, no hot row.
create unlogged table app_private.playback_failure_reports (
  id bigint generated always as identity primary key,
  stream_id uuid not null,
  path text not null check (path in ('hls', 'stage')),
  url text,
  reason text,
  reporter_id uuid,
  reported_at timestamptz not null default now()
);
create index playback_failure_reports_stream_idx on app_private.playback_failure_reports (stream_id, reported_at);
comment on table app_private.playback_failure_reports is 'Playback failures reported by players (fatal HLS error, 404, stage failure).';

--------------------------------------------------------------------------------
-- The HLS URL: one derivation, used by every client and by the health check.
--------------------------------------------------------------------------------

create function app_public.streams_hls_url(s app_public.streams) returns text
  language sql stable
  security definer
  set search_path = ''
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
grant execute on function app_public.streams_hls_url(app_public.streams) to anon, authenticated;
comment on function app_public.streams_hls_url(app_public.streams) is
  'The stream''s HLS playlist URL derived from configuration (Mux playback id, CDN pull zone + origin path, or self-hosted origin); null when the stream has no HLS source or it is not configured.';

-- The realtime feature owns viewer counts (app_public.streams_viewer_count); read it when present.
create function app_private.playback_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  set search_path = ''
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
comment on function app_private.playback_viewer_count(app_public.streams) is
  'The viewer count from app_public.streams_viewer_count when the realtime feature provides it, else null.';

create type app_public.playback_state as (
  stream_id uuid,
  provider text,
  mode text,
  hls_provider text,
  hls_url text,
  hls_ready boolean,
  latency_mode text,
  pending text,
  switched_at timestamptz,
  viewer_count integer
);
comment on type app_public.playback_state is 'What a player needs to pick its path.';
comment on column app_public.playback_state.provider is 'The current path''s provider: livekit (the WebRTC stage), mux, cdn or origin.';
comment on column app_public.playback_state.mode is 'stage (WebRTC, sub-second latency) or hls (viral mode).';
comment on column app_public.playback_state.hls_url is 'The derived HLS URL (app_public.streams_hls_url).';
comment on column app_public.playback_state.hls_ready is 'The last health check of exactly this URL passed: a player may fall back to it.';
comment on column app_public.playback_state.latency_mode is 'low (stage) or standard (HLS).';
comment on column app_public.playback_state.pending is 'A transition the worker is checking: to_hls, to_stage or verify.';
comment on column app_public.playback_state.viewer_count is 'Viewers now (null until the realtime feature counts them).';

create function app_public.streams_playback(s app_public.streams) returns app_public.playback_state
  language sql stable
  security definer
  set search_path = ''
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
grant execute on function app_public.streams_playback(app_public.streams) to anon, authenticated;
comment on function app_public.streams_playback(app_public.streams) is
  'Playback state of the stream: current path and provider, HLS URL, latency mode, pending switch, viewer count.';

--------------------------------------------------------------------------------
-- Configuring a stream's HLS source (broadcaster or admin).
--------------------------------------------------------------------------------

create function app_public.configure_stream_playback(
  stream_id uuid,
  hls_provider text,
  mux_playback_id text default null,
  origin_path text default null
) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = ''
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
grant execute on function app_public.configure_stream_playback(uuid, text, text, text) to authenticated;
comment on function app_public.configure_stream_playback(uuid, text, text, text) is
  'Sets the stream''s HLS source: mux (playback id), cdn or origin (origin path, default from configuration), or null. Errors: NOAUT, NOFND, DENYD, BADIN, CONFL (on HLS now).';

--------------------------------------------------------------------------------
-- The state machine.
--------------------------------------------------------------------------------

-- Ask for a transition (internal). target: 'hls' or 'stage'. Returns the pending transition now set
-- (null when nothing is to be done: already there, or cancelled a pending opposite transition).
create function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) returns text
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.request_transition(uuid, text, text, uuid) is
  'Sets (or cancels) the pending transition of a stream; the worker checks and switches.';

create function app_public.request_viral_mode(stream_id uuid, mode text) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
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
grant execute on function app_public.request_viral_mode(uuid, text) to authenticated;
comment on function app_public.request_viral_mode(uuid, text) is
  'Broadcaster/admin: hls asks to switch viewers to HLS (after a health check), stage asks to switch back; both pin the mode. auto hands it back to the viewer-count thresholds. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';

-- Threshold logic on one count (hysteresis: enter at >= enter, leave below exit; pinned streams
-- and streams without an HLS URL are left alone). Returns the transition requested, if any.
create function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) returns text
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.apply_viewer_count(uuid, integer) is
  'Viral-mode thresholds for one stream and its current viewer count; returns the transition it requested.';

create function app_private.scan_viral_thresholds() returns integer
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.scan_viral_thresholds() is
  'Applies the thresholds to every live stream using the realtime viewer counts (no-op until they exist).';

-- The worker's queue feed: due checks, leased so a lost job is re-enqueued after lease_seconds.
create function app_private.claim_hls_checks(lease_seconds integer default 30, max_rows integer default 100)
returns table (stream_id uuid, pending text)
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.claim_hls_checks(integer, integer) is
  'Due checks for the worker (streams__viral_tick enqueues one streams__check_hls job each); leased, not removed.';

create function app_private.hls_check_target(stream_id uuid) returns table (pending text, url text)
  language sql stable
  set search_path = ''
as $$
  select p.pending, app_public.streams_hls_url(s)
    from app_private.stream_playback p
    join app_public.streams s on s.id = p.stream_id
   where p.stream_id = hls_check_target.stream_id and p.pending is not null
$$;
comment on function app_private.hls_check_target(uuid) is
  'What the streams__check_hls job must check for the stream (no row: nothing pending).';

-- The worker reports a check. Only a passing check of the URL the stream would serve NOW switches it.
-- Returns what happened: switched_to_hls, switched_to_stage, verified, retry, stale (nothing pending
-- or the URL changed meanwhile: checked again at once).
create function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb default '{}')
returns text
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.record_hls_check(uuid, text, boolean, text, jsonb) is
  'Result of a streams__check_hls job: switches (and publishes a stream_state event) only on a passing check of the current URL; a failure keeps the current path, records why and schedules a retry with backoff.';

--------------------------------------------------------------------------------
-- Players report failures; admins see health.
--------------------------------------------------------------------------------

create function app_public.report_playback_failure(stream_id uuid, path text, url text default null, reason text default null)
returns boolean
  language plpgsql volatile
  security definer
  set search_path = ''
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
  insert into app_private.playback_failure_reports (stream_id, path, url, reason, reporter_id)
    values (report_playback_failure.stream_id, path, left(url, 2000), left(reason, 500), app_public.current_user_id());
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
grant execute on function app_public.report_playback_failure(uuid, text, text, text) to anon, authenticated;
comment on function app_public.report_playback_failure(uuid, text, text, text) is
  'A player reports that a path failed (fatal HLS error, playlist 404, stage failure). Counted per stream; many HLS failures trigger a re-check. Errors: BADIN, NOFND.';

-- Admin view: one row per stream with a playback state. Rows appear only for admins (security
-- barrier: the filter runs before any user-supplied predicate).
create view app_public.playback_health with (security_barrier) as
  select p.stream_id,
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
         coalesce(p.last_check_ok = false, false) as alerting,
         (select count(*) from app_private.playback_failure_reports r where r.stream_id = p.stream_id)::integer as failure_reports,
         (select count(*) from app_private.playback_failure_reports r
           where r.stream_id = p.stream_id and r.reported_at > now() - interval '5 minutes')::integer as failure_reports_5m
    from app_private.stream_playback p
    join app_public.streams s on s.id = p.stream_id
   where exists (select 1 from app_public.users u where u.id = app_public.current_user_id() and u.role = 'admin');
grant select on app_public.playback_health to authenticated;
comment on view app_public.playback_health is
  'Admins only: playback state per stream, last health check and why it failed (alerting), failure reports from players.';
comment on column app_public.playback_health.alerting is 'The last health check failed: viewers were kept on the current path; the worker retries.';

create function app_private.playback_metrics() returns table (streams_hls integer, streams_check_failing integer, checks_failed integer, failure_reports integer)
  language sql stable
  set search_path = ''
as $$
  select (select count(*) from app_private.stream_playback where mode = 'hls')::integer,
         (select count(*) from app_private.stream_playback where last_check_ok = false)::integer,
         (select count(*) from app_private.hls_checks where not ok)::integer,
         (select count(*) from app_private.playback_failure_reports)::integer
$$;
comment on function app_private.playback_metrics() is 'Figures for /metrics (trollcity_playback_*).';
