--! Previous: sha1:09aa259819164346e6b2fbd59242a67d69945b12
--! Hash: sha1:64db58d9d1a5ef11e51aa6c2d634c5cd2342b373
--! Message: stage seats livekit

--! split: 200-stage.sql
-- Stage: app roles, LiveKit grants, seats with hard revocation.
--
-- Why it is shaped so: the old token endpoint honoured a client `allowPublish` flag and seats were
-- revoked only in the client. Here the LiveKit grant is computed in SQL from database state alone
-- (stream owner and holders of an active, unexpired seat publish; everyone else subscribes), and
-- every seat change that matters to LiveKit enqueues `stream_seats__enforce`, a worker job that makes
-- LiveKit agree with the database (UpdateParticipant, RemoveParticipant as the fallback) and retries
-- until it does. Expiry needs no cron: each seat with an `expires_at` gets its own job, scheduled a
-- second early so the worker's poll interval cannot delay it (the job waits for the exact instant).
-- Every seat change also publishes a self-contained `seat` stream event so clients unmount at once.

--------------------------------------------------------------------------------
-- Who is calling, and what they may do.
--------------------------------------------------------------------------------

create function app_private.require_user() returns app_public.users
  language plpgsql stable
  set search_path = ''
as $$
declare
  v_user app_public.users;
begin
  select * into v_user from app_public.users u where u.id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  return v_user;
end;
$$;
comment on function app_private.require_user() is 'The signed-in, unbanned caller. Errors: NOAUT, BANND.';

create function app_private.manages_stage(stream app_public.streams, actor app_public.users) returns boolean
  language sql stable
  set search_path = ''
as $$
  select actor.id = stream.broadcaster_id or actor.role in ('moderator', 'admin')
$$;
comment on function app_private.manages_stage(app_public.streams, app_public.users) is
  'Invites and revokes seats: the stream''s broadcaster, moderators and admins.';

-- App roles are data; only an admin changes them, and never their own (so the last admin stays one).
create function app_public.set_user_role(user_id uuid, role app_public.app_role) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may change app roles (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if role is null then
    raise exception 'role is required' using errcode = 'BADIN';
  end if;
  if set_user_role.user_id = v_me.id then
    raise exception 'admin % may not change their own role', v_me.username using errcode = 'DENYD';
  end if;
  update app_public.users u set role = set_user_role.role where u.id = set_user_role.user_id returning * into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  return v_user;
end;
$$;
grant execute on function app_public.set_user_role(uuid, app_public.app_role) to authenticated;
comment on function app_public.set_user_role(uuid, app_public.app_role) is
  'Changes a user''s app role. Admins only, never their own. Errors: NOAUT, BANND, DENYD, NOFND, BADIN.';

--------------------------------------------------------------------------------
-- Jobs: graphile-worker's schema is installed by the worker at start, after migrations.
--------------------------------------------------------------------------------

create function app_private.add_job(task text, payload json, run_at timestamptz, job_key text, queue_name text default null) returns void
  language plpgsql volatile
  set search_path = ''
as $$
begin
  if to_regnamespace('graphile_worker') is null then
    raise exception 'graphile_worker is not installed: start the worker once (npm start or npm run worker)' using errcode = 'CONFG';
  end if;
  perform graphile_worker.add_job(task, payload, queue_name, run_at, 25, job_key);
end;
$$;
comment on function app_private.add_job(text, json, timestamptz, text, text) is
  'Enqueue a graphile-worker job (replacing a pending one with the same key; jobs of one named queue run one at a time). '
  'CONFG when the worker schema is missing.';

--------------------------------------------------------------------------------
-- Seats
--------------------------------------------------------------------------------

alter table app_public.streams add column if not exists seat_cap smallint not null default 4 check (seat_cap between 0 and 12);
comment on column app_public.streams.seat_cap is 'How many guest seats the stage has (0-12); the broadcaster is not counted.';

create table app_public.stream_seats (
  id uuid primary key default gen_random_uuid(),
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  slot smallint not null check (slot between 1 and 12),
  status text not null default 'invited' check (status in ('invited', 'active', 'left', 'revoked', 'expired', 'ended')),
  invited_by uuid references app_public.users (id) on delete set null,
  duration_seconds integer check (duration_seconds between 10 and 86400),
  expires_at timestamptz,
  accepted_at timestamptz,
  ended_at timestamptz,
  ended_by uuid references app_public.users (id) on delete set null,
  end_reason text check (char_length(end_reason) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((status in ('invited', 'active')) = (ended_at is null)),
  check (status <> 'active' or accepted_at is not null)
);
alter table app_public.stream_seats enable row level security;
alter table app_public.stream_seats force row level security;
create index stream_seats_stream_id_idx on app_public.stream_seats (stream_id);
create index stream_seats_user_id_idx on app_public.stream_seats (user_id);
create index stream_seats_invited_by_idx on app_public.stream_seats (invited_by);
create index stream_seats_ended_by_idx on app_public.stream_seats (ended_by);
create unique index stream_seats_open_slot_key on app_public.stream_seats (stream_id, slot) where status in ('invited', 'active');
create unique index stream_seats_open_user_key on app_public.stream_seats (stream_id, user_id) where status in ('invited', 'active');

create function app_private.tg_stream_seats__enqueue() returns trigger
  language plpgsql
  set search_path = ''
as $$
declare
  v_user app_public.users;
  v_action text;
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status and new.expires_at is not distinct from old.expires_at then
    return null;
  end if;
  -- LiveKit must change when a seat starts or stops publishing: enforce now. One serial queue per
  -- participant, so a late job carrying an older decision never runs after a newer one.
  if tg_op = 'UPDATE' and new.status is distinct from old.status and 'active' in (new.status, old.status) then
    perform app_private.add_job('stream_seats__enforce', json_build_object('seat_id', new.id), now(), 'stream_seats__enforce:' || new.id,
      'livekit:' || new.stream_id || ':' || new.user_id);
  end if;
  -- Expiry: one job per seat, a second early; the job waits for expires_at itself.
  if new.status in ('invited', 'active') and new.expires_at is not null
     and (tg_op = 'INSERT' or new.expires_at is distinct from old.expires_at) then
    perform app_private.add_job('stream_seats__enforce', json_build_object('seat_id', new.id),
      new.expires_at - interval '1 second', 'stream_seats__enforce:expiry:' || new.id, 'livekit:' || new.stream_id || ':' || new.user_id);
  end if;
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    v_action := case new.status when 'invited' then 'invited' when 'active' then 'accepted' else new.status end;
    select * into v_user from app_public.users u where u.id = new.user_id;
    perform app_private.publish_stream_event(new.stream_id, 'seat', jsonb_build_object(
      'action', v_action,
      'seat', jsonb_build_object(
        'id', new.id, 'stream_id', new.stream_id, 'user_id', new.user_id, 'slot', new.slot, 'status', new.status,
        'expires_at', new.expires_at, 'end_reason', new.end_reason),
      'user', jsonb_build_object(
        'id', v_user.id, 'username', v_user.username, 'display_name', v_user.display_name, 'avatar_url', v_user.avatar_url)
    ));
  end if;
  return null;
end;
$$;
comment on function app_private.tg_stream_seats__enqueue() is
  'Publishes a seat event on every status change and enqueues stream_seats__enforce (now, and at expiry).';

create trigger _100_timestamps before insert or update on app_public.stream_seats
  for each row execute function app_private.tg__timestamps();
create trigger _900_enqueue after insert or update on app_public.stream_seats
  for each row execute function app_private.tg_stream_seats__enqueue();

-- Who sits on stage is public; invitations and past seats are seen by the guest and the stage managers.
create policy select_visible on app_public.stream_seats for select using (
  status = 'active'
  or user_id = (select app_public.current_user_id())
  or exists (
    select 1 from app_public.streams s
     where s.id = stream_seats.stream_id and s.broadcaster_id = (select app_public.current_user_id()))
  or exists (
    select 1 from app_public.users u
     where u.id = (select app_public.current_user_id()) and u.role in ('moderator', 'admin'))
);
grant select on app_public.stream_seats to anon, authenticated;
comment on table app_public.stream_seats is
  'A guest''s slot on a stream''s stage. Changed only through invite_to_seat, accept_seat, leave_seat, revoke_seat.';
comment on column app_public.stream_seats.slot is 'Position on stage, 1..seat_cap of the stream.';
comment on column app_public.stream_seats.status is 'invited, active (publishing), left, revoked, expired or ended (the stream ended).';
comment on column app_public.stream_seats.invited_by is 'Who sent the invitation.';
comment on column app_public.stream_seats.duration_seconds is 'How long the seat lasts once accepted; null: until left or revoked.';
comment on column app_public.stream_seats.expires_at is
  'When the invitation (while invited) or the seat (while active) expires; enforced within a second.';
comment on column app_public.stream_seats.accepted_at is 'When the guest accepted.';
comment on column app_public.stream_seats.ended_at is 'When the seat stopped being open.';
comment on column app_public.stream_seats.ended_by is 'Who ended it (the guest, or the manager who revoked it).';
comment on column app_public.stream_seats.end_reason is 'Why it ended (the revoke reason, or a system reason).';

create function app_private.expire_due_seats(stream_id uuid) returns void
  language sql volatile
  set search_path = ''
as $$
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.stream_id = expire_due_seats.stream_id and s.status in ('invited', 'active') and s.expires_at <= now();
$$;
comment on function app_private.expire_due_seats(uuid) is 'Marks a stream''s overdue open seats expired (before new seats take slots).';

create function app_private.expire_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.expire_seat(uuid) is 'Worker: marks the seat expired when it is due; returns the seat (null when gone).';

-- The stage closes with the stream.
create function app_private.tg_streams__end_seats() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  update app_public.stream_seats s
     set status = 'ended', ended_at = now(), end_reason = 'stream ended'
   where s.stream_id = new.id and s.status in ('invited', 'active');
  return null;
end;
$$;
comment on function app_private.tg_streams__end_seats() is 'Ends every open seat when its stream ends.';
create trigger _500_end_seats after update of status on app_public.streams
  for each row when (new.status = 'ended' and old.status is distinct from 'ended')
  execute function app_private.tg_streams__end_seats();

create function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer default null, duration_seconds integer default null)
  returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = ''
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
  values (v_stream.id, v_guest.id, v_slot, v_me.id, duration_seconds, now() + interval '2 minutes')
  returning * into v_seat;
  return v_seat;
end;
$$;
grant execute on function app_public.invite_to_seat(uuid, uuid, integer, integer) to authenticated;
comment on function app_public.invite_to_seat(uuid, uuid, integer, integer) is
  E'Invites a user to a seat on the stage (the lowest free slot unless one is given). The invitation expires after 2 minutes; '
  'the seat lasts duration_seconds once accepted (null: until left or revoked). Broadcaster, moderators and admins only. '
  'Errors: NOAUT, BANND, NOFND, DENYD, NLIVE, BADIN, SEATF (already seated, slot taken, stage full).';

create function app_public.accept_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = ''
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
grant execute on function app_public.accept_seat(uuid) to authenticated;
comment on function app_public.accept_seat(uuid) is
  'Accepts an invitation: the caller may publish on stage until the seat is left, revoked or expires. '
  'Errors: NOAUT, BANND, NOFND (no open invitation), DENYD (offered to someone else), NLIVE.';

create function app_public.leave_seat(seat_id uuid) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = ''
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
grant execute on function app_public.leave_seat(uuid) to authenticated;
comment on function app_public.leave_seat(uuid) is
  'Leaves a seat or declines an invitation (idempotent). Errors: NOAUT, NOFND, DENYD (someone else''s seat).';

create function app_public.revoke_seat(seat_id uuid, reason text) returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = ''
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
  if char_length(reason) > 200 then
    raise exception 'reason must be at most 200 characters' using errcode = 'BADIN';
  end if;
  if v_seat.status in ('invited', 'active') then
    update app_public.stream_seats s
       set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = coalesce(nullif(btrim(reason), ''), 'revoked')
     where s.id = v_seat.id
    returning * into v_seat;
  end if;
  return v_seat;
end;
$$;
grant execute on function app_public.revoke_seat(uuid, text) to authenticated;
comment on function app_public.revoke_seat(uuid, text) is
  'Takes a seat away (idempotent): the guest is ejected from the stage at LiveKit within a second. '
  'Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, BADIN.';

create function app_public.set_seat_cap(stream_id uuid, seat_cap integer) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
begin
  select * into v_stream from app_public.streams s where s.id = set_seat_cap.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may size the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if seat_cap is null or seat_cap not between 0 and 12 then
    raise exception 'seat_cap must be between 0 and 12, got %', seat_cap using errcode = 'BADIN';
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
grant execute on function app_public.set_seat_cap(uuid, integer) to authenticated;
comment on function app_public.set_seat_cap(uuid, integer) is
  'Sets how many guest seats the stage has (0-12). Errors: NOAUT, BANND, NOFND, DENYD, BADIN, SEATF (open seats above the cap).';

--------------------------------------------------------------------------------
-- LiveKit grants
--------------------------------------------------------------------------------

create type app_public.livekit_grant as (
  room text,
  identity text,
  can_publish boolean,
  can_subscribe boolean,
  can_publish_data boolean,
  room_admin boolean,
  ttl_seconds integer
);
comment on type app_public.livekit_grant is 'What a LiveKit token for one user and one stream may do; computed from database state only.';
comment on column app_public.livekit_grant.room is 'LiveKit room name: the stream id.';
comment on column app_public.livekit_grant.identity is 'LiveKit identity: always the user id.';
comment on column app_public.livekit_grant.can_publish is 'Publish audio/video: the broadcaster and holders of an active seat.';
comment on column app_public.livekit_grant.can_subscribe is 'Watch the stage: everyone allowed in the room.';
comment on column app_public.livekit_grant.can_publish_data is 'Send data messages: publishers only.';
comment on column app_public.livekit_grant.room_admin is 'Administer the room (admins).';
comment on column app_public.livekit_grant.ttl_seconds is 'Token lifetime: minutes for publishers (never past the seat''s expiry), an hour for viewers.';

create function app_private.livekit_grant_for(stream_id uuid, user_id uuid) returns app_public.livekit_grant
  language plpgsql stable
  set search_path = ''
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
comment on function app_private.livekit_grant_for(uuid, uuid) is
  'The LiveKit grant of a user in a stream''s room (server side: token minting, webhooks, enforcement). Errors: NOAUT, BANND, NOFND, NLIVE.';

create function app_public.livekit_grant(stream_id uuid) returns app_public.livekit_grant
  language sql stable
  security definer
  set search_path = ''
as $$
  select app_private.livekit_grant_for(livekit_grant.stream_id, app_public.current_user_id())
$$;
grant execute on function app_public.livekit_grant(uuid) to anon, authenticated;
comment on function app_public.livekit_grant(uuid) is
  'The caller''s LiveKit grant for a stream, from database state only (never from the request). '
  'Errors: NOAUT (anonymous), BANND, NOFND, NLIVE (stream ended).';

--------------------------------------------------------------------------------
-- Enforcement bookkeeping (worker and webhook)
--------------------------------------------------------------------------------

create table app_private.livekit_enforcements (
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  can_publish boolean not null,
  state text not null check (state in ('applied', 'removed', 'absent', 'failing')),
  attempts integer not null default 1,
  last_error text,
  updated_at timestamptz not null default now(),
  primary key (stream_id, user_id)
);
create index livekit_enforcements_user_id_idx on app_private.livekit_enforcements (user_id);
comment on table app_private.livekit_enforcements is
  'Last outcome of making LiveKit agree with the database for one participant. `absent`: not in the room, '
  'so the webhook enforces the grant when they (re)join.';
