create or replace function app_public.renew_token() returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
begin
  select u.* into v_user from app_public.users u where u.id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  return app_private.sign_jwt(v_user.id);
end;
$$;
revoke all on function app_public.renew_token() from public, anon, authenticated;
grant execute on function app_public.renew_token() to authenticated;
comment on function app_public.renew_token() is
  'A fresh short-lived JWT for the signed-in user (the web server renews its session cookie with it before the old token expires). Errors: NOAUT, BANND (a banned user''s session ends).';
