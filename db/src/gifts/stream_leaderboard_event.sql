create or replace function app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) returns jsonb
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select jsonb_build_object(
    'type', 'leaderboard',
    'stream_id', stream_id,
    'broadcaster_id', broadcaster_id,
    'batch_id', batch_id,
    'top_gifters', coalesce((
      select jsonb_agg(jsonb_build_object('rank', t.rank, 'user_id', t.gifter_id, 'username', u.username,
                                          'display_name', u.display_name, 'avatar_url', u.avatar_url,
                                          'coins', t.coins, 'gifts', t.gifts) order by t.rank)
        from (select s.gifter_id, s.coins, s.gifts, row_number() over (order by s.coins desc, s.gifter_id) as rank
                from app_public.stream_gifter_stats s
               where s.stream_id = stream_leaderboard_event.stream_id
               order by s.coins desc, s.gifter_id limit 10) t
        join app_public.users u on u.id = t.gifter_id), '[]'::jsonb),
    'earnings', (
      select jsonb_build_object(
        'coins_today', coalesce(max(b.coins) filter (where b.period = 'day'), 0),
        'coins_all_time', coalesce(max(b.coins) filter (where b.period = 'all_time'), 0),
        'earned_all_time', coalesce(max(b.earned_coins) filter (where b.period = 'all_time'), 0))
        from app_public.broadcaster_stats b
       where b.broadcaster_id = stream_leaderboard_event.broadcaster_id
         and (b.period, b.period_start) in (('day', app_public.period_start('day', now())), ('all_time', app_public.period_start('all_time'))))
  )
$$;
revoke all on function app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) from public, anon, authenticated;
