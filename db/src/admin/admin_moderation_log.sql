create or replace function app_public.admin_moderation_log()
  returns setof app_public.moderation_log_entry
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(false);
  return query
    select m.id, m.created_at, m.action, m.stream_id, st.title, a.username, t.username, m.reason
      from app_public.moderation_actions m
      left join app_public.streams st on st.id = m.stream_id
      left join app_public.users a on a.id = m.actor_id
      left join app_public.users t on t.id = m.target_user_id
     order by m.created_at desc, m.id desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_moderation_log() from public, anon, authenticated;
grant execute on function app_public.admin_moderation_log() to authenticated;
comment on function app_public.admin_moderation_log() is
  'Admins and moderators: the newest moderation actions across every stream and site-wide bans (stream null); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';
