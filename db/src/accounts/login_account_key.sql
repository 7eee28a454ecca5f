create or replace function app_private.login_account_key(username_or_email text) returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- The account a sign-in names: its user id when it exists (so the username and the e-mail address
  -- share one throttle), else a digest of the identifier (unknown accounts are throttled exactly like
  -- known ones, so throttling does not tell which exist).
  select coalesce(
    (select u.id::text from app_public.users u where lower(u.username) = lower(username_or_email)
      union all
     select s.user_id::text from app_private.user_secrets s where lower(s.email) = lower(username_or_email)
     limit 1),
    'unknown:' || md5(lower(coalesce(username_or_email, ''))))
$$;
revoke all on function app_private.login_account_key(username_or_email text) from public, anon, authenticated;
comment on function app_private.login_account_key(username_or_email text) is
  'The throttle key of a sign-in: the user id, or a digest of an unknown identifier.';
