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
