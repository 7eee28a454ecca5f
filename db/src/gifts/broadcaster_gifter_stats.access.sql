-- What each user gave each broadcaster is theirs (finding 8): the gifter, the broadcaster and admins
-- see the rows; everyone else the top list through app_public.top_gifters_of_broadcaster().
drop policy if exists select_all on app_public.broadcaster_gifter_stats;
drop policy if exists select_involved on app_public.broadcaster_gifter_stats;
create policy select_involved on app_public.broadcaster_gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or broadcaster_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.broadcaster_gifter_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_gifter_stats to authenticated;
