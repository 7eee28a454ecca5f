create or replace function app_public.revoke_seat(seat_id uuid, reason text) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_seat app_public.stream_seats;
  v_stream app_public.streams;
begin
  select * into v_seat from app_public.stream_seats s where s.id = revoke_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  select * into v_stream from app_public.streams s where s.id = v_seat.stream_id;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may revoke seat % on stream %', seat_id, v_stream.id using errcode = 'DENYD';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 200, 0);
  if v_seat.status in ('invited', 'active') then
    update app_public.stream_seats s
       set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = coalesce(reason, 'revoked')
     where s.id = v_seat.id
    returning * into v_seat;
  end if;
  return v_seat;
end;
$$;
revoke all on function app_public.revoke_seat(seat_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.revoke_seat(seat_id uuid, reason text) to authenticated;
comment on function app_public.revoke_seat(seat_id uuid, reason text) is
  'Takes a seat away (idempotent): the guest is ejected from the stage at LiveKit within a second. Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, BADIN.';
