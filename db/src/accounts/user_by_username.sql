create or replace function app_public.user_by_username(username text) returns app_public.users
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select u.* from app_public.users u where lower(u.username) = lower(user_by_username.username)
$$;
revoke all on function app_public.user_by_username(username text) from public, anon, authenticated;
grant execute on function app_public.user_by_username(username text) to anon, authenticated;
comment on function app_public.user_by_username(username text) is
  'A user by username (case-insensitive).';
