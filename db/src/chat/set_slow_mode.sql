create or replace function app_public.set_slow_mode(stream_id uuid, seconds int) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_stream app_public.streams;
  -- At most the table's own bound (streams_chat_slow_mode_seconds_check, 3600).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'chat_slow_mode_max_seconds'), 3600);
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = set_slow_mode.stream_id) then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_hidden.can_moderate_stream(stream_id) then
    raise exception 'only the broadcaster or a moderator may set slow mode on stream %', stream_id using errcode = 'DENYD';
  end if;
  if seconds is null or seconds not between 0 and v_max then
    raise exception 'slow mode must be 0 (off) to % seconds', v_max using errcode = 'BADIN';
  end if;
  update app_public.streams s set chat_slow_mode_seconds = seconds where s.id = set_slow_mode.stream_id
    returning * into v_stream;
  perform app_private.log_moderation(stream_id, 'slow_mode', null, null, jsonb_build_object('seconds', seconds));
  perform app_private.publish_stream_event(stream_id, 'stream_state', jsonb_build_object('chat_slow_mode_seconds', seconds));
  return v_stream;
end;
$$;
revoke all on function app_public.set_slow_mode(stream_id uuid, seconds integer) from public, anon, authenticated;
grant execute on function app_public.set_slow_mode(stream_id uuid, seconds integer) to authenticated;
comment on function app_public.set_slow_mode(stream_id uuid, seconds integer) is
  'Sets the stream''s chat slow mode (0 = off, up to 3600 seconds between messages per viewer: setting chat_slow_mode_max_seconds). Errors: NOAUT, NOFND, DENYD, BADIN.';
