-- What each user spent per period is theirs (finding 8): the gifter and admins see the rows; everyone
-- else the current period's top list through app_public.gifter_leaderboard().
drop policy if exists select_all on app_public.gifter_stats;
drop policy if exists select_own on app_public.gifter_stats;
create policy select_own on app_public.gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.gifter_stats from public, anon, authenticated;
grant select on table app_public.gifter_stats to authenticated;
