-- The broadcaster (and moderators/admins) read a stream's moderation log.
drop policy if exists select_as_moderator on app_public.moderation_actions;
create policy select_as_moderator on app_public.moderation_actions for select
  using (app_hidden.can_moderate_stream(stream_id));
revoke all on table app_public.moderation_actions from public, anon, authenticated;
grant select on table app_public.moderation_actions to authenticated;
