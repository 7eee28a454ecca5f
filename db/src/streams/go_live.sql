create or replace function app_public.go_live(title text) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
  v_title text;
begin
  select * into v_user from app_public.users where id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in to go live' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  if v_user.role not in ('broadcaster', 'admin') then
    raise exception 'user % is not a broadcaster', v_user.username using errcode = 'DENYD';
  end if;
  v_title := app_hidden.clean_line(title, 'title', 140);
  if exists (select 1 from app_public.streams s where s.broadcaster_id = v_user.id and s.status = 'live') then
    raise exception 'user % is already live', v_user.username using errcode = 'CONFL';
  end if;
  insert into app_public.streams (broadcaster_id, title) values (v_user.id, v_title)
    returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.go_live(title text) from public, anon, authenticated;
grant execute on function app_public.go_live(title text) to authenticated;
comment on function app_public.go_live(title text) is
  'Starts a live stream owned by the caller. Errors: NOAUT, BANND, DENYD (not a broadcaster), BADIN, CONFL (already live).';
