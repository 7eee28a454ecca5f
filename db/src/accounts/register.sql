create or replace function app_public.register(username text, email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_user_id uuid;
  v_welcome integer;
begin
  if username is null or username !~ '^[A-Za-z][A-Za-z0-9_]{2,23}$' then
    raise exception 'username must be a letter followed by 2-23 letters, digits or underscores' using errcode = 'BADIN';
  end if;
  if email is null or email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise exception 'email is not a valid address' using errcode = 'BADIN';
  end if;
  if password is null or char_length(password) < 8 or char_length(password) > 200 then
    raise exception 'password must be 8-200 characters' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.users u where lower(u.username) = lower(register.username)) then
    raise exception 'username "%" is already taken', username using errcode = 'CONFL';
  end if;
  if exists (select 1 from app_private.user_secrets s where lower(s.email) = lower(register.email)) then
    raise exception 'email is already registered' using errcode = 'CONFL';
  end if;
  insert into app_public.users (username, display_name) values (username, username)
    returning id into v_user_id;
  insert into app_private.user_secrets (user_id, email, password_hash)
    values (v_user_id, email, public.crypt(password, public.gen_salt('bf', 10)));
  -- No free coins unless the operator configures a welcome grant (setting welcome_coins, default 0).
  v_welcome := coalesce((select s.value::integer from app_private.settings s where s.key = 'welcome_coins'), 0);
  if v_welcome > 0 then
    perform app_private.issue_coins(v_user_id, v_welcome, 'grant', 'welcome:' || v_user_id, 'Welcome grant');
  end if;
  return app_private.sign_jwt(v_user_id);
exception
  when unique_violation then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
end;
$$;
revoke all on function app_public.register(username text, email text, password text) from public, anon, authenticated;
grant execute on function app_public.register(username text, email text, password text) to anon;
comment on function app_public.register(username text, email text, password text) is
  'Creates an account (app role viewer) and returns a signed JWT. New accounts get no coins unless the operator sets a welcome grant (app_private.settings welcome_coins). Errors: BADIN invalid input, CONFL username or email taken.';
