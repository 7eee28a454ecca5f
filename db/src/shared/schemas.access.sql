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
