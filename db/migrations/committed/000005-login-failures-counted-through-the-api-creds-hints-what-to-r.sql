--! Previous: sha1:17f326c5c34db0a77d1d0a91cd7f1ac20943826e
--! Hash: sha1:a32ea13757b771987e65cf39a3f008f94788f884
--! Message: Login failures counted through the API: CREDS hints what to record, the server records it after the rollback

--! split: 160-login-failures.sql
-- A failed sign-in is counted even though its CREDS error rolls the sign-in back: login's hint names
-- the identifier, and the API server records it right after the rollback (issue 15, finding 1).
--! Included accounts/count_login_failure.sql
create or replace function app_hidden.count_login_failure(username_or_email text) returns integer
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if username_or_email is null or char_length(username_or_email) > 320 then
    return 0;
  end if;
  return app_private.record_login_failure(username_or_email);
end;
$$;
revoke all on function app_hidden.count_login_failure(username_or_email text) from public, anon, authenticated;
-- Only the API server's login role, after a CREDS answer it saw roll back (the request roles cannot:
-- a failed sign-in is what anyone can cause anyway, but only through login's own checks).
grant execute on function app_hidden.count_login_failure(username_or_email text) to authenticator;
comment on function app_hidden.count_login_failure(username_or_email text) is
  'Records one failed sign-in for the account the identifier names (app_private.record_login_failure), in the caller''s own transaction. Called by the API server after app_public.login answered CREDS (its hint says so).';
--! EndIncluded accounts/count_login_failure.sql
--! Included accounts/login.sql
create or replace function app_public.login(username_or_email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_hash text;
  v_key text;
  v_failures app_private.login_failures;
  v_max integer := app_private.gift_setting('login_max_failures', 5);
  v_window interval := make_interval(secs => app_private.gift_setting('login_window_seconds', 900));
  v_wait integer;
  v_ok boolean;
  -- bcrypt (cost 10) of random bytes nobody kept: an unknown account costs the same work as a known one.
  c_dummy constant text := '$2a$10$CPmXNyK54JEFOB2n1ZEaAOrFZEzb57PdvMC8TO8NTcIWTbAmXEVd.';
begin
  select u.* into v_user
    from app_public.users u
    left join app_private.user_secrets s on s.user_id = u.id
   where lower(u.username) = lower(username_or_email) or lower(s.email) = lower(username_or_email)
   limit 1;
  select s.password_hash into v_hash from app_private.user_secrets s where s.user_id = v_user.id;
  v_key := app_private.login_account_key(username_or_email);
  -- One sign-in per account at a time: parallel guessing gets RATEL, not parallel bcrypt runs.
  if not pg_try_advisory_xact_lock(hashtextextended('app_public.login:' || v_key, 0)) then
    raise exception 'another sign-in for this account is in progress: retry after 1 seconds'
      using errcode = 'RATEL', detail = json_build_object('retry_after', 1)::text;
  end if;
  -- Too many failures in the window: refused before any password work.
  select * into v_failures from app_private.login_failures f where f.account = v_key;
  if v_failures.failures >= v_max and v_failures.window_start + v_window > now() then
    v_wait := greatest(ceil(extract(epoch from v_failures.window_start + v_window - now())), 1);
    raise exception 'too many failed sign-ins for this account: retry after % seconds', v_wait
      using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
  end if;
  -- Same error and the same bcrypt work whether the user is unknown or the password is wrong.
  v_ok := public.crypt(coalesce(password, ''), coalesce(v_hash, c_dummy)) = coalesce(v_hash, c_dummy) and v_hash is not null;
  if not v_ok then
    -- Not recorded here: this error rolls the transaction back. The hint tells the caller what to
    -- record in a transaction of its own (app_hidden.count_login_failure; our server does it after
    -- the rollback, web/src/server/caller.ts), see docs/security.md. It echoes only the caller's input.
    raise exception 'wrong username/email or password' using errcode = 'CREDS',
      hint = 'login_failure:' || coalesce(username_or_email, '');
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  delete from app_private.login_failures f where f.account = v_key;
  update app_private.user_secrets s
     set last_login_at = now(),
         -- Hashes below cost 10 (older or imported accounts) are upgraded while the password is at hand.
         password_hash = case when substring(s.password_hash from '^\$2[abxy]?\$(\d+)\$')::integer < 10
                              then public.crypt(password, public.gen_salt('bf', 10)) else s.password_hash end
   where s.user_id = v_user.id;
  return app_private.sign_jwt(v_user.id);
end;
$$;
revoke all on function app_public.login(username_or_email text, password text) from public, anon, authenticated;
grant execute on function app_public.login(username_or_email text, password text) to anon;
comment on function app_public.login(username_or_email text, password text) is
  'Signs in and returns a short-lived JWT. Throttled per account: one attempt at a time, and after 5 failures in 15 minutes RATEL until the window ends. Errors: CREDS wrong credentials, BANND banned, RATEL (retry after the seconds in the message).';
--! EndIncluded accounts/login.sql
--! Included shared/schemas.access.sql
-- Who may look into which schema: request roles reach app_public (the API) and app_hidden
-- (helpers); app_private (money, secrets, internals) is closed to them.
revoke all on schema app_hidden from public, anon, authenticated, authenticator;
grant usage on schema app_hidden to anon, authenticated;
-- authenticator (NOINHERIT: it has none of anon's rights itself) calls one helper there between
-- requests: app_hidden.count_login_failure.
grant usage on schema app_hidden to authenticator;
revoke all on schema app_private from public, anon, authenticated;
revoke all on schema app_public from public, anon, authenticated;
grant usage on schema app_public to anon, authenticated;
--! EndIncluded shared/schemas.access.sql
