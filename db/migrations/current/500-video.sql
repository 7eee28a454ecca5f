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

--!include stage/livekit_grant_for.sql
--!include streams/livekit_room_spec.sql
--!include playback/stream_needs_egress.sql
--!include playback/stop_stream_egresses.sql
--!include playback/configure_egress.sql
--!include playback/egress_job.sql
--!include playback/record_egress.sql
--!include playback/egress_metrics.sql
--!include playback/claim_hls_checks.sql
--!include playback/request_viral_mode.sql
--!include realtime/apply_viewer_count.sql
--!include playback/tg_stream_playback__egress.sql
--!include streams/tg_streams__livekit_room.sql

create trigger _500_egress before update of pending, mode on app_private.stream_playback
  for each row execute function app_private.tg_stream_playback__egress();
create trigger _510_livekit_room after insert on app_public.streams
  for each row when (new.status = 'live') execute function app_private.tg_streams__livekit_room();
create trigger _510_livekit_room_end after update of status on app_public.streams
  for each row when (new.status = 'ended' and old.status is distinct from 'ended') execute function app_private.tg_streams__livekit_room();
