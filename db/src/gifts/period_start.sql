create or replace function app_public.period_start(period text, at timestamptz default now()) returns timestamptz
  language sql immutable parallel safe
as $$
  select case period
    when 'day' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', at)))
    when 'week' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('week', pg_catalog.timezone('UTC', at)))
    when 'month' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', at)))
    when 'all_time' then pg_catalog.timestamptz '1970-01-01 00:00:00+00'
  end
$$;
revoke all on function app_public.period_start(period text, at timestamp with time zone) from public, anon, authenticated;
grant execute on function app_public.period_start(period text, at timestamp with time zone) to anon, authenticated;
comment on function app_public.period_start(period text, at timestamp with time zone) is
  E'@behavior -queryField\nStart (UTC) of the leaderboard period containing `at`: day, week (ISO, Monday), month, or all_time (the epoch).';
