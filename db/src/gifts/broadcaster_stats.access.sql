-- A broadcaster's takings per period (coins received, earned after the fee) are theirs and the
-- admins' (finding 8). The public leaderboard is app_public.leaderboard(): the current period's top list.
drop policy if exists select_all on app_public.broadcaster_stats;
drop policy if exists select_own on app_public.broadcaster_stats;
create policy select_own on app_public.broadcaster_stats for select to authenticated
  using (broadcaster_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.broadcaster_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_stats to authenticated;
