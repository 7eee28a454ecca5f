create or replace function app_private.moderation_target(stream_id uuid, user_id uuid) returns app_public.streams
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_stream app_public.streams;
  v_actor app_public.app_role;
  v_target app_public.app_role;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = moderation_target.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  select u.role into v_actor from app_public.users u where u.id = app_public.current_user_id();
  if v_stream.broadcaster_id <> app_public.current_user_id() and v_actor not in ('moderator', 'admin') then
    raise exception 'only the broadcaster or a moderator may moderate stream %', stream_id using errcode = 'DENYD';
  end if;
  select u.role into v_target from app_public.users u where u.id = moderation_target.user_id;
  if v_target is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if user_id = app_public.current_user_id() then
    raise exception 'you cannot moderate yourself' using errcode = 'BADIN';
  end if;
  if user_id = v_stream.broadcaster_id then
    raise exception 'the broadcaster of stream % cannot be muted or banned in it', stream_id using errcode = 'DENYD';
  end if;
  if v_target in ('moderator', 'admin') and v_actor is distinct from 'admin' then
    raise exception 'only an admin may mute or ban moderator %', user_id using errcode = 'DENYD';
  end if;
  return v_stream;
end;
$$;
revoke all on function app_private.moderation_target(stream_id uuid, user_id uuid) from public, anon, authenticated;
comment on function app_private.moderation_target(stream_id uuid, user_id uuid) is
  'Shared checks for mute/ban: NOAUT, NOFND, DENYD, BADIN.';
