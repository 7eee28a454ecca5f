create or replace function app_public.set_seat_cap(stream_id uuid, seat_cap integer) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  -- At most the table's own bound (streams_seat_cap_check, 12).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'stage_max_seats'), 12);
begin
  select * into v_stream from app_public.streams s where s.id = set_seat_cap.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may size the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if seat_cap is null or seat_cap not between 0 and v_max then
    raise exception 'seat_cap must be between 0 and %, got %', v_max, seat_cap using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.status in ('invited', 'active') and s.slot > set_seat_cap.seat_cap) then
    raise exception 'stream % has open seats above slot %: revoke them first', stream_id, seat_cap using errcode = 'SEATF';
  end if;
  update app_public.streams s set seat_cap = set_seat_cap.seat_cap where s.id = v_stream.id returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) from public, anon, authenticated;
grant execute on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) to authenticated;
comment on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) is
  'Sets how many guest seats the stage has (0-12: setting stage_max_seats). Errors: NOAUT, BANND, NOFND, DENYD, BADIN, SEATF (open seats above the cap).';
