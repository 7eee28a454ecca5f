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
