create or replace function app_private.require_staff(admin_only boolean) returns app_public.users
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
begin
  if admin_only and v_me.role <> 'admin' then
    raise exception 'admins only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if v_me.role not in ('admin', 'moderator') then
    raise exception 'admins and moderators only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  return v_me;
end;
$$;
revoke all on function app_private.require_staff(admin_only boolean) from public, anon, authenticated;
comment on function app_private.require_staff(admin_only boolean) is
  'The signed-in, unbanned admin (or, unless admin_only, moderator). Errors: NOAUT, BANND, DENYD.';
