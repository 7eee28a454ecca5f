-- What each user spent on each stream is theirs (finding 8): a gifter sees their own rows, the
-- broadcaster the rows of their streams, admins all. Everyone else sees the top list only, through
-- app_public.top_gifters() (and the stream's `leaderboard` events).
drop policy if exists select_all on app_public.stream_gifter_stats;
drop policy if exists select_involved on app_public.stream_gifter_stats;
create policy select_involved on app_public.stream_gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.streams s where s.id = stream_id and s.broadcaster_id = (select app_public.current_user_id()))
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.stream_gifter_stats from public, anon, authenticated;
grant select on table app_public.stream_gifter_stats to authenticated;
