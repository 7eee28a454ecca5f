create or replace function app_public.register(username text, email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user_id uuid;
  v_hash text;
  v_welcome integer;
begin
  if username is null or username !~ '^[A-Za-z][A-Za-z0-9_]{2,23}$' then
    raise exception 'username must be a letter followed by 2-23 letters, digits or underscores' using errcode = 'BADIN';
  end if;
  if email is null or email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or not app_hidden.is_clean_line(email) then
    raise exception 'email is not a valid address' using errcode = 'BADIN';
  end if;
  -- Password policy: 10 characters at least, at most 72 bytes (bcrypt ignores the rest), not the
  -- username or the e-mail address (or its part before the @).
  if password is null or char_length(password) < 10 then
    raise exception 'password must be at least 10 characters' using errcode = 'BADIN';
  end if;
  if octet_length(password) > 72 then
    raise exception 'password must be at most 72 bytes' using errcode = 'BADIN';
  end if;
  if lower(password) in (lower(username), lower(email), lower(split_part(email, '@', 1))) then
    raise exception 'password must not be the username or the e-mail address' using errcode = 'BADIN';
  end if;
  -- bcrypt cost 10 (about 50-100 ms), computed before the availability checks so that a taken
  -- username or e-mail answers no faster than a new account.
  v_hash := public.crypt(password, public.gen_salt('bf', 10));
  -- One answer for a taken username and a taken e-mail address: the error does not say which.
  if exists (select 1 from app_public.users u where lower(u.username) = lower(register.username))
     or exists (select 1 from app_private.user_secrets s where lower(s.email) = lower(register.email)) then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
  end if;
  insert into app_public.users (username, display_name) values (username, username)
    returning id into v_user_id;
  insert into app_private.user_secrets (user_id, email, password_hash) values (v_user_id, email, v_hash);
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
  'Creates an account (app role viewer) and returns a signed JWT. Password: 10 characters to 72 bytes, not the username or e-mail; bcrypt cost 10. New accounts get no coins unless the operator sets a welcome grant (app_private.settings welcome_coins). Errors: BADIN invalid input, CONFL username or email taken (one message for both).';
