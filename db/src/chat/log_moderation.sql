create or replace function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb default '{}')
  returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason, details)
  values (stream_id, app_public.current_user_id(), action, target_user_id, reason, coalesce(details, '{}'));
$$;
revoke all on function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) from public, anon, authenticated;
comment on function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb) is
  'Appends to the moderation log as the current user.';
