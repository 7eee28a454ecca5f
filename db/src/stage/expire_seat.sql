create or replace function app_private.expire_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_seat app_public.stream_seats;
begin
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.id = expire_seat.seat_id and s.status in ('invited', 'active') and s.expires_at <= now()
  returning * into v_seat;
  if v_seat.id is null then
    select * into v_seat from app_public.stream_seats s where s.id = expire_seat.seat_id;
  end if;
  return v_seat;
end;
$$;
revoke all on function app_private.expire_seat(seat_id uuid) from public, anon, authenticated;
comment on function app_private.expire_seat(seat_id uuid) is
  'Worker: marks the seat expired when it is due; returns the seat (null when gone).';
