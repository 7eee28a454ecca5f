create or replace function app_public.request_seat(stream_id uuid) returns app_public.stream_seat_requests
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_request app_public.stream_seat_requests;
begin
  select * into v_stream from app_public.streams s where s.id = request_seat.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_me.id then
    raise exception 'the broadcaster is always on their own stage' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.stream_bans b where b.stream_id = v_stream.id and b.user_id = v_me.id
              and (b.banned_until is null or b.banned_until > now())) then
    raise exception 'user % is banned from stream %', v_me.username, v_stream.id using errcode = 'BANND';
  end if;
  if exists (select 1 from app_public.stream_seats s where s.stream_id = v_stream.id and s.user_id = v_me.id
              and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat or an invitation', v_me.username using errcode = 'SEATF';
  end if;
  select * into v_request from app_public.stream_seat_requests r where r.stream_id = v_stream.id and r.user_id = v_me.id;
  if found then
    return v_request;  -- asking twice changes nothing (and announces nothing)
  end if;
  insert into app_public.stream_seat_requests (stream_id, user_id) values (v_stream.id, v_me.id) returning * into v_request;
  perform app_private.publish_stream_event(v_stream.id, 'seat', jsonb_build_object(
    'action', 'requested',
    'request', jsonb_build_object('stream_id', v_request.stream_id, 'user_id', v_request.user_id, 'requested_at', v_request.created_at),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return v_request;
end;
$$;
revoke all on function app_public.request_seat(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.request_seat(stream_id uuid) to authenticated;
comment on function app_public.request_seat(stream_id uuid) is
  'A viewer asks to join a live stream''s stage; the stage managers see the request (a seat event with action requested) and may invite. Idempotent. Errors: NOAUT, BANND, NOFND, NLIVE, BADIN (the broadcaster), SEATF (already seated or invited).';
