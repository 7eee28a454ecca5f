create or replace function app_public.login(username_or_email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_hash text;
begin
  select u.* into v_user
    from app_public.users u
    left join app_private.user_secrets s on s.user_id = u.id
   where lower(u.username) = lower(username_or_email) or lower(s.email) = lower(username_or_email)
   limit 1;
  select s.password_hash into v_hash from app_private.user_secrets s where s.user_id = v_user.id;
  -- Same error whether the user is unknown or the password is wrong.
  if v_user.id is null or v_hash is null or v_hash <> public.crypt(coalesce(password, ''), v_hash) then
    raise exception 'wrong username/email or password' using errcode = 'CREDS';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  update app_private.user_secrets set last_login_at = now() where user_id = v_user.id;
  return app_private.sign_jwt(v_user.id);
end;
$$;
revoke all on function app_public.login(username_or_email text, password text) from public, anon, authenticated;
grant execute on function app_public.login(username_or_email text, password text) to anon;
comment on function app_public.login(username_or_email text, password text) is
  'Signs in and returns a short-lived JWT. Errors: CREDS wrong credentials, BANND banned.';
