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
