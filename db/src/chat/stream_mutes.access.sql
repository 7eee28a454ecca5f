-- Moderators of the stream see its mutes; a muted user sees their own (the UI says so).
drop policy if exists select_moderator_or_self on app_public.stream_mutes;
create policy select_moderator_or_self on app_public.stream_mutes for select
  using (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR app_hidden.can_moderate_stream(stream_id)));
revoke all on table app_public.stream_mutes from public, anon, authenticated;
grant select on table app_public.stream_mutes to authenticated;
