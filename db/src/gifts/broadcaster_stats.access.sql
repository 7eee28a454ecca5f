-- Leaderboards are public.
drop policy if exists select_all on app_public.broadcaster_stats;
create policy select_all on app_public.broadcaster_stats for select
  using (true);
revoke all on table app_public.broadcaster_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_stats to anon, authenticated;
