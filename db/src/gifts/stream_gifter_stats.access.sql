-- Top gifters are shown to everyone watching.
drop policy if exists select_all on app_public.stream_gifter_stats;
create policy select_all on app_public.stream_gifter_stats for select
  using (true);
revoke all on table app_public.stream_gifter_stats from public, anon, authenticated;
grant select on table app_public.stream_gifter_stats to anon, authenticated;
