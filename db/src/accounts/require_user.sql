create or replace function app_private.require_user() returns app_public.users
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
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
revoke all on function app_private.require_user() from public, anon, authenticated;
comment on function app_private.require_user() is
  'The signed-in, unbanned caller. Errors: NOAUT, BANND.';
