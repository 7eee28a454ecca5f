-- A broadcaster's top supporters are public, like the stream's.
drop policy if exists select_all on app_public.broadcaster_gifter_stats;
create policy select_all on app_public.broadcaster_gifter_stats for select
  using (true);
revoke all on table app_public.broadcaster_gifter_stats from public, anon, authenticated;
grant select on table app_public.broadcaster_gifter_stats to anon, authenticated;
