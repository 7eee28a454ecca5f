-- Video end to end (issue 13): anonymous stage viewers, LiveKit rooms opened and closed by the worker,
-- egresses (RTMP to Mux or HLS to the origin) when a stream goes viral. Re-runnable.
drop table if exists app_private.livekit_anon_buckets;

-- Signed-out stage viewers: one token bucket per client address (UNLOGGED: a crash forgives a few tokens).
create unlogged table app_private.livekit_anon_buckets (
  client_addr text primary key,
  tokens real not null,
  refilled_at timestamptz not null default now()
);
comment on table app_private.livekit_anon_buckets is 'Rate limit of stage tokens for signed-out viewers, per client address (app_private.livekit_grant_for).';

--!include stage/livekit_grant_for.sql
