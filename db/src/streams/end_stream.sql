create or replace function app_public.end_stream(stream_id uuid) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_stream app_public.streams;
  v_uid uuid := app_public.current_user_id();
begin
  if v_uid is null then
    raise exception 'sign in to end a stream' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = end_stream.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may end stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status = 'ended' then
    return v_stream;
  end if;
  update app_public.streams s set status = 'ended', ended_at = now() where s.id = v_stream.id
    returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.end_stream(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.end_stream(stream_id uuid) to authenticated;
comment on function app_public.end_stream(stream_id uuid) is
  'Ends a live stream (idempotent). Errors: NOAUT, NOFND, DENYD (not the broadcaster or an admin).';
