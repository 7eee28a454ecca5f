create or replace function app_public.ban_site_user(user_id uuid, reason text) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may ban users site-wide (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to ban a user' using errcode = 'BADIN';
  end if;
  if ban_site_user.user_id = v_me.id then
    raise exception 'admin % may not ban themselves', v_me.username using errcode = 'DENYD';
  end if;
  -- Banned, and no moderation powers left: an admin or moderator is demoted to viewer.
  update app_public.users u
     set is_banned = true,
         role = case when u.role in ('moderator', 'admin') then 'viewer'::app_public.app_role else u.role end
   where u.id = ban_site_user.user_id
  returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  -- Every open seat ends now; the seat trigger queues the LiveKit revocation for the worker.
  update app_public.stream_seats s
     set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = 'banned site-wide'
   where s.user_id = v_user.id and s.status in ('invited', 'active');
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_ban', v_user.id, btrim(reason));
  return v_user;
end;
$$;
revoke all on function app_public.ban_site_user(user_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.ban_site_user(user_id uuid, reason text) to authenticated;
comment on function app_public.ban_site_user(user_id uuid, reason text) is
  'Admins: bans a user site-wide, at once: they can no longer sign in, renew their session or act (every mutation answers BANND), their stage seats end (revoked at LiveKit by the worker) and a moderator or admin is demoted to viewer. Logged in the moderation log. Errors: NOAUT, BANND, DENYD (not an admin, or oneself), BADIN (reason), NOFND.';
