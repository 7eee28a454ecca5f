create or replace function app_private.tg_stream_seats__enqueue() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
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
revoke all on function app_private.tg_stream_seats__enqueue() from public, anon, authenticated;
comment on function app_private.tg_stream_seats__enqueue() is
  'Publishes a seat event on every status change and enqueues stream_seats__enforce (now, and at expiry).';
