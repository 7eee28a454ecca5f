--! Previous: sha1:a32ea13757b771987e65cf39a3f008f94788f884
--! Hash: sha1:05e58a92de904a23d798de82d976b1b4f4b0a692
--! Message: Video: signed-out viewers' grants, LiveKit rooms, egress records and jobs, Mux playback ids

--! split: 500-video.sql
-- Video end to end (issue 13): anonymous stage viewers, LiveKit rooms opened and closed by the worker,
-- egresses (RTMP to Mux or HLS to the origin) when a stream goes viral. Re-runnable.
drop trigger if exists _500_egress on app_private.stream_playback;
drop trigger if exists _510_livekit_room on app_public.streams;
drop trigger if exists _510_livekit_room_end on app_public.streams;
drop table if exists app_private.stream_egresses;
drop table if exists app_private.livekit_anon_buckets;
alter table app_private.playback_settings drop column if exists egress_target;

-- Signed-out stage viewers: one token bucket per client address (UNLOGGED: a crash forgives a few tokens).
create unlogged table app_private.livekit_anon_buckets (
  client_addr text primary key,
  tokens real not null,
  refilled_at timestamptz not null default now()
);
comment on table app_private.livekit_anon_buckets is 'Rate limit of stage tokens for signed-out viewers, per client address (app_private.livekit_grant_for).';

alter table app_private.playback_settings add column egress_target text check (egress_target in ('mux', 'origin'));
comment on column app_private.playback_settings.egress_target is
  'Where a LiveKit egress sends a stream without its own HLS source when it goes viral: mux (RTMP to a Mux live stream) or origin (HLS segments); null: no egress. Set at start from the configuration.';

create table app_private.stream_egresses (
  id uuid primary key default gen_random_uuid(),
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  target text not null check (target in ('mux', 'origin')),
  state text not null default 'requested'
    check (state in ('requested', 'starting', 'active', 'retrying', 'stopping', 'stopped', 'failed')),
  egress_id text,
  mux_live_stream_id text,
  mux_playback_id text check (mux_playback_id ~ '^[A-Za-z0-9]{1,64}$'),
  attempts integer not null default 0 check (attempts >= 0),
  failures integer not null default 0 check (failures >= 0),
  consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  last_error text,
  last_failed_at timestamptz,
  next_attempt_at timestamptz,
  stop_reason text,
  started_at timestamptz,
  active_at timestamptz,
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index stream_egresses_one_open_per_stream on app_private.stream_egresses (stream_id)
  where state in ('requested', 'starting', 'active', 'retrying');
create index stream_egresses_stream_id_idx on app_private.stream_egresses (stream_id, created_at desc);
comment on table app_private.stream_egresses is
  'LiveKit egresses of streams that went viral: one row per egress, its state (requested, starting, active, retrying, stopping, stopped, failed), failures (in all; consecutive ones set the backoff) and the Mux live stream it feeds.';
create trigger _100_timestamps before insert or update on app_private.stream_egresses
  for each row execute function app_private.tg__timestamps();

--! Included stage/livekit_grant_for.sql
create or replace function app_private.livekit_grant_for(stream_id uuid, user_id uuid) returns app_public.livekit_grant
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) from public, anon, authenticated;
comment on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) is
  'The LiveKit grant of a user in a stream''s room (server side: token minting, webhooks, enforcement). A null user is a signed-out viewer: subscribe only, identity anon-<random>, 5-minute token, 20 per client address then one every 5 s (RATEL). Errors: NOAUT, BANND, NOFND, NLIVE, RATEL.';
--! EndIncluded stage/livekit_grant_for.sql
--! Included streams/livekit_room_spec.sql
create or replace function app_private.livekit_room_spec(stream_id uuid)
returns table (room text, live boolean, empty_timeout integer, departure_timeout integer, max_participants integer)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- The stage's room: named after the stream. It stays open 5 minutes without anyone in it (the
  -- broadcaster reconnecting), 20 s after the last one leaves; it admits the stage plus the viewers up
  -- to the viral threshold (past it, viewers move to HLS) with some headroom.
  select s.id::text, s.status = 'live', 300, 20,
         coalesce(cfg.viral_enter_viewers, 1000) + s.seat_cap + 1 + 100
    from app_public.streams s
    left join app_private.playback_settings cfg on true
   where s.id = livekit_room_spec.stream_id
$$;
revoke all on function app_private.livekit_room_spec(stream_id uuid) from public, anon, authenticated;
comment on function app_private.livekit_room_spec(stream_id uuid) is
  'What the streams__livekit_room job makes LiveKit hold for a stream: an open room with these limits while it is live, none after.';
--! EndIncluded streams/livekit_room_spec.sql
--! Included playback/stream_needs_egress.sql
create or replace function app_private.stream_needs_egress(stream_id uuid, hls_provider text) returns boolean
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- A stream without an HLS source of its own gets one from a LiveKit egress (when one is configured);
  -- so does a stream whose source an egress set before.
  select cfg.egress_target is not null
         and (stream_needs_egress.hls_provider is null
              or exists (select 1 from app_private.stream_egresses e where e.stream_id = stream_needs_egress.stream_id))
    from app_private.playback_settings cfg
$$;
revoke all on function app_private.stream_needs_egress(stream_id uuid, hls_provider text) from public, anon, authenticated;
comment on function app_private.stream_needs_egress(stream_id uuid, hls_provider text) is
  'Whether the stream''s HLS comes from a LiveKit egress started by the worker (rather than a source configured for the stream).';
--! EndIncluded playback/stream_needs_egress.sql
--! Included playback/stop_stream_egresses.sql
create or replace function app_private.stop_stream_egresses(stream_id uuid, reason text) returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.stop_stream_egresses(stream_id uuid, reason text) from public, anon, authenticated;
comment on function app_private.stop_stream_egresses(stream_id uuid, reason text) is
  'Asks the worker to stop every open egress of a stream (switched back to the stage, stream ended). Returns how many.';
--! EndIncluded playback/stop_stream_egresses.sql
--! Included playback/configure_egress.sql
create or replace function app_private.configure_egress(egress_target text) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  if egress_target is not null and egress_target not in ('mux', 'origin') then
    raise exception 'egress target must be mux, origin or null (got "%")', egress_target using errcode = 'BADIN';
  end if;
  update app_private.playback_settings s set egress_target = configure_egress.egress_target;
end;
$$;
revoke all on function app_private.configure_egress(egress_target text) from public, anon, authenticated;
comment on function app_private.configure_egress(egress_target text) is
  'Called by the server at start: where a stream going viral is sent by a LiveKit egress (mux: RTMP to a Mux live stream; origin: HLS segments to the origin; null: no egress, HLS sources are configured per stream).';
--! EndIncluded playback/configure_egress.sql
--! Included playback/egress_job.sql
create or replace function app_private.egress_job(id uuid)
returns table (
  id uuid, stream_id uuid, room text, target text, state text, action text, egress_id text,
  mux_live_stream_id text, segment_prefix text, playlist_name text, live_playlist_name text
)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
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
$$;
revoke all on function app_private.egress_job(id uuid) from public, anon, authenticated;
comment on function app_private.egress_job(id uuid) is
  'One egress as the stream_egresses__run job sees it, and the action it must take (start, poll, watch, stop, none).';
--! EndIncluded playback/egress_job.sql
--! Included playback/record_egress.sql
create or replace function app_private.record_egress(
  id uuid,
  state text,
  egress_id text default null,
  error text default null,
  mux_live_stream_id text default null,
  mux_playback_id text default null
) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) from public, anon, authenticated;
comment on function app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) is
  'What the worker learnt about an egress (started, active, stopped, failed). Decides what follows: a failure (of a start, or of a running egress) is retried with backoff (5 s doubling to 2 min, 8 in a row at most), an active egress lets the waiting health check run and is watched every 5 s, a start that is no longer wanted is stopped.';
--! EndIncluded playback/record_egress.sql
--! Included playback/egress_metrics.sql
create or replace function app_private.egress_metrics() returns table (active integer, starting integer, failed integer, failures integer)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select (select count(*) from app_private.stream_egresses where state = 'active')::integer,
         (select count(*) from app_private.stream_egresses where state in ('requested', 'starting', 'retrying'))::integer,
         (select count(*) from app_private.stream_egresses where state = 'failed')::integer,
         (select coalesce(sum(e.failures), 0) from app_private.stream_egresses e)::integer
$$;
revoke all on function app_private.egress_metrics() from public, anon, authenticated;
comment on function app_private.egress_metrics() is
  'Figures for /metrics (trollcity_egress_*).';
--! EndIncluded playback/egress_metrics.sql
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
revoke all on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) from public, anon, authenticated;
comment on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) is
  'Due checks for the worker (streams__viral_tick enqueues one streams__check_hls job each); leased, not removed.';
--! EndIncluded playback/claim_hls_checks.sql
--! Included playback/request_viral_mode.sql
create or replace function app_public.request_viral_mode(stream_id uuid, mode text) returns app_public.playback_state
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
revoke all on function app_public.request_viral_mode(stream_id uuid, mode text) from public, anon, authenticated;
grant execute on function app_public.request_viral_mode(stream_id uuid, mode text) to authenticated;
comment on function app_public.request_viral_mode(stream_id uuid, mode text) is
  'Broadcaster/admin: hls asks to switch viewers to HLS (after a health check), stage asks to switch back; both pin the mode. auto hands it back to the viewer-count thresholds. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';
--! EndIncluded playback/request_viral_mode.sql
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
revoke all on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) from public, anon, authenticated;
comment on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) is
  'Viral-mode thresholds for one stream and its current viewer count; returns the transition it requested.';
--! EndIncluded realtime/apply_viewer_count.sql
--! Included playback/tg_stream_playback__egress.sql
create or replace function app_private.tg_stream_playback__egress() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.tg_stream_playback__egress() from public, anon, authenticated;
comment on function app_private.tg_stream_playback__egress() is
  'Starts a LiveKit egress (through the stream_egresses__run job) when a stream without its own HLS source is asked to go viral, and stops it when viewers are back on the stage.';
--! EndIncluded playback/tg_stream_playback__egress.sql
--! Included streams/tg_streams__livekit_room.sql
create or replace function app_private.tg_streams__livekit_room() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
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
revoke all on function app_private.tg_streams__livekit_room() from public, anon, authenticated;
comment on function app_private.tg_streams__livekit_room() is
  'Enqueues streams__livekit_room when a stream goes live or ends (the mutation stays a database transaction; the worker talks to LiveKit).';
--! EndIncluded streams/tg_streams__livekit_room.sql

create trigger _500_egress before update of pending, mode on app_private.stream_playback
  for each row execute function app_private.tg_stream_playback__egress();
create trigger _510_livekit_room after insert on app_public.streams
  for each row when (new.status = 'live') execute function app_private.tg_streams__livekit_room();
create trigger _510_livekit_room_end after update of status on app_public.streams
  for each row when (new.status = 'ended' and old.status is distinct from 'ended') execute function app_private.tg_streams__livekit_room();
