create or replace function app_public.set_user_role(user_id uuid, role app_public.app_role) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may change app roles (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if role is null then
    raise exception 'role is required' using errcode = 'BADIN';
  end if;
  if set_user_role.user_id = v_me.id then
    raise exception 'admin % may not change their own role', v_me.username using errcode = 'DENYD';
  end if;
  update app_public.users u set role = set_user_role.role where u.id = set_user_role.user_id returning * into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  return v_user;
end;
$$;
revoke all on function app_public.set_user_role(user_id uuid, role app_public.app_role) from public, anon, authenticated;
grant execute on function app_public.set_user_role(user_id uuid, role app_public.app_role) to authenticated;
comment on function app_public.set_user_role(user_id uuid, role app_public.app_role) is
  'Changes a user''s app role. Admins only, never their own. Errors: NOAUT, BANND, DENYD, NOFND, BADIN.';
