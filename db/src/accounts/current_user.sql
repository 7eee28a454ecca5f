create or replace function app_public.current_user() returns app_public.users
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select u.* from app_public.users u where u.id = app_public.current_user_id()
$$;
revoke all on function app_public.current_user() from public, anon, authenticated;
grant execute on function app_public.current_user() to anon, authenticated;
comment on function app_public.current_user() is
  'The signed-in user, or null.';
