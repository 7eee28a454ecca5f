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
