-- Streams are public: anyone may browse and watch.
drop policy if exists select_all on app_public.streams;
create policy select_all on app_public.streams for select
  using (true);
revoke all on table app_public.streams from public, anon, authenticated;
grant select on table app_public.streams to anon, authenticated;
