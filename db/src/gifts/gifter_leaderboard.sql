create or replace function app_public.gifter_leaderboard(period text default 'week', "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if $1 is null or $1 not in ('day', 'week', 'month', 'all_time') then
    raise exception 'period must be day, week, month or all_time, got %', $1 using errcode = 'BADIN';
  end if;
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.gifter_stats s
             where s.period = $1 and s.period_start = app_public.period_start($1, now()) and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$$;
revoke all on function app_public.gifter_leaderboard(period text, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.gifter_leaderboard(period text, "limit" integer) to anon, authenticated;
comment on function app_public.gifter_leaderboard(period text, "limit" integer) is
  'Top gifters by coins spent in the current period (day, week, month, all_time; UTC boundaries), settled gifts only. Reads only materialised stats (SECURITY DEFINER: app_public.gifter_stats rows are private to their gifter). Errors: BADIN.';
