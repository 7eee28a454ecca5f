-- The gifter leaderboards are public.
drop policy if exists select_all on app_public.gifter_stats;
create policy select_all on app_public.gifter_stats for select
  using (true);
revoke all on table app_public.gifter_stats from public, anon, authenticated;
grant select on table app_public.gifter_stats to anon, authenticated;
