create or replace function app_private.record_login_failure(username_or_email text) returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_key text := app_private.login_account_key(username_or_email);
  v_window interval := make_interval(secs => app_private.gift_setting('login_window_seconds', 900));
  v_failures integer;
begin
  insert into app_private.login_failures as f (account, failures, window_start) values (v_key, 1, now())
  on conflict (account) do update
    set failures = case when f.window_start + v_window <= now() then 1 else f.failures + 1 end,
        window_start = case when f.window_start + v_window <= now() then now() else f.window_start end
  returning f.failures into v_failures;
  -- Expired windows are forgotten (a few at a time, oldest first).
  delete from app_private.login_failures f
   where f.account in (select o.account from app_private.login_failures o
                        where o.window_start < now() - v_window order by o.window_start limit 100);
  return v_failures;
end;
$$;
revoke all on function app_private.record_login_failure(username_or_email text) from public, anon, authenticated;
comment on function app_private.record_login_failure(username_or_email text) is
  'Counts one failed sign-in against the account (login_failures, per window). Returns the failures in the current window. Must run in a transaction that commits: the CREDS error of app_public.login rolls back its own record.';
