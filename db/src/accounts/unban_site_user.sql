create or replace function app_public.unban_site_user(user_id uuid, reason text) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may lift a site-wide ban (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if char_length(reason) > 200 then
    raise exception 'reason must be at most 200 characters' using errcode = 'BADIN';
  end if;
  update app_public.users u set is_banned = false where u.id = unban_site_user.user_id returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_unban', v_user.id, nullif(btrim(reason), ''));
  return v_user;
end;
$$;
revoke all on function app_public.unban_site_user(user_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.unban_site_user(user_id uuid, reason text) to authenticated;
comment on function app_public.unban_site_user(user_id uuid, reason text) is
  'Admins: lifts a site-wide ban (the app role stays as the ban left it). Errors: NOAUT, BANND, DENYD, BADIN, NOFND.';
