create or replace function app_public.leave_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users;
  v_seat app_public.stream_seats;
begin
  -- A banned guest may still leave.
  select * into v_me from app_public.users u where u.id = app_public.current_user_id();
  if v_me.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  select * into v_seat from app_public.stream_seats s where s.id = leave_seat.seat_id for update;
  if v_seat.id is null then
    raise exception 'seat % not found', seat_id using errcode = 'NOFND';
  end if;
  if v_seat.user_id <> v_me.id then
    raise exception 'seat % belongs to another user (managers use revoke_seat)', seat_id using errcode = 'DENYD';
  end if;
  if v_seat.status in ('invited', 'active') then
    update app_public.stream_seats s
       set status = 'left', ended_at = now(), ended_by = v_me.id, end_reason = 'left'
     where s.id = v_seat.id
    returning * into v_seat;
  end if;
  return v_seat;
end;
$$;
revoke all on function app_public.leave_seat(seat_id uuid) from public, anon, authenticated;
grant execute on function app_public.leave_seat(seat_id uuid) to authenticated;
comment on function app_public.leave_seat(seat_id uuid) is
  'Leaves a seat or declines an invitation (idempotent). Errors: NOAUT, NOFND, DENYD (someone else''s seat).';
