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
