create or replace function app_public.accept_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_seat app_public.stream_seats;
begin
  select * into v_seat from app_public.stream_seats s where s.id = accept_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  if v_seat.user_id <> v_me.id then
    raise exception 'seat % was offered to another user', seat_id using errcode = 'DENYD';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = v_seat.stream_id and s.status = 'live') then
    raise exception 'stream % is not live', v_seat.stream_id using errcode = 'NLIVE';
  end if;
  if v_seat.status = 'active' and (v_seat.expires_at is null or v_seat.expires_at > now()) then
    return v_seat;
  end if;
  if v_seat.status <> 'invited' or v_seat.expires_at <= now() then
    raise exception 'seat % has no open invitation (%)', seat_id,
      case when v_seat.status in ('invited', 'active') then 'expired' else v_seat.status end using errcode = 'NOFND';
  end if;
  update app_public.stream_seats s
     set status = 'active', accepted_at = now(),
         expires_at = case when s.duration_seconds is null then null else now() + make_interval(secs => s.duration_seconds) end
   where s.id = v_seat.id
  returning * into v_seat;
  return v_seat;
end;
$$;
revoke all on function app_public.accept_seat(seat_id uuid) from public, anon, authenticated;
grant execute on function app_public.accept_seat(seat_id uuid) to authenticated;
comment on function app_public.accept_seat(seat_id uuid) is
  'Accepts an invitation: the caller may publish on stage until the seat is left, revoked or expires. Errors: NOAUT, BANND, NOFND (no open invitation), DENYD (offered to someone else), NLIVE.';
