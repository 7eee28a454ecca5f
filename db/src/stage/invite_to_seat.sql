create or replace function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer default null, duration_seconds integer default null)
  returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_guest app_public.users;
  v_slot integer := slot;
  v_seat app_public.stream_seats;
begin
  -- Lock the stream: seat assignment is serialised per stream.
  select * into v_stream from app_public.streams s where s.id = invite_to_seat.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may invite to the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  select * into v_guest from app_public.users u where u.id = invite_to_seat.user_id;
  if v_guest.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if v_guest.is_banned then
    raise exception 'user % is banned', v_guest.username using errcode = 'BANND';
  end if;
  if v_guest.id = v_stream.broadcaster_id then
    raise exception 'user % owns stream % and is always on its stage', v_guest.username, stream_id using errcode = 'BADIN';
  end if;
  if duration_seconds is not null and duration_seconds not between 10 and 86400 then
    raise exception 'seat duration must be 10-86400 seconds, got %', duration_seconds using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.user_id = v_guest.id and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat on stream %', v_guest.username, stream_id using errcode = 'SEATF';
  end if;
  if (select count(*) from app_public.stream_seats s where s.stream_id = v_stream.id and s.status in ('invited', 'active')) >= v_stream.seat_cap then
    raise exception 'the stage of stream % is full (% seats)', stream_id, v_stream.seat_cap using errcode = 'SEATF';
  end if;
  if v_slot is null then
    select min(n) into v_slot from generate_series(1, v_stream.seat_cap) n
     where not exists (select 1 from app_public.stream_seats s
                        where s.stream_id = v_stream.id and s.slot = n and s.status in ('invited', 'active'));
  elsif v_slot not between 1 and v_stream.seat_cap then
    raise exception 'slot must be between 1 and % on stream %, got %', v_stream.seat_cap, stream_id, v_slot using errcode = 'BADIN';
  elsif exists (select 1 from app_public.stream_seats s
                 where s.stream_id = v_stream.id and s.slot = v_slot and s.status in ('invited', 'active')) then
    raise exception 'slot % on stream % is taken', v_slot, stream_id using errcode = 'SEATF';
  end if;
  insert into app_public.stream_seats (stream_id, user_id, slot, invited_by, duration_seconds, expires_at)
  values (v_stream.id, v_guest.id, v_slot, v_me.id, duration_seconds,
          now() + make_interval(secs => coalesce((select t.value::int from app_private.settings t where t.key = 'stage_invitation_seconds'), 120)))
  returning * into v_seat;
  return v_seat;
end;
$$;
revoke all on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) from public, anon, authenticated;
grant execute on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) to authenticated;
comment on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) is
  'Invites a user to a seat on the stage (the lowest free slot unless one is given). The invitation expires after 2 minutes (setting stage_invitation_seconds); the seat lasts duration_seconds once accepted (null: until left or revoked). Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, NLIVE, BADIN, SEATF (already seated, slot taken, stage full).';
