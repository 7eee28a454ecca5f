create or replace function app_public.broadcaster_earnings(broadcaster_id uuid)
  returns setof app_public.broadcaster_stats
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.broadcaster_stats s
   where s.broadcaster_id = $1
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, now())
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period))
   order by array_position(array['day', 'week', 'month', 'all_time'], s.period);
$$;
revoke all on function app_public.broadcaster_earnings(broadcaster_id uuid) from public, anon, authenticated;
grant execute on function app_public.broadcaster_earnings(broadcaster_id uuid) to authenticated;
comment on function app_public.broadcaster_earnings(broadcaster_id uuid) is
  'A broadcaster''s settled earnings in the current day, week, month and all time (UTC; one row per period that has gifts): coins received, coins kept after the fee, gifts. Only the broadcaster and admins see rows (row level security on broadcaster_stats: takings are private, the public list is leaderboard()).';
