create or replace function app_public.top_gifters(stream_id uuid, "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.stream_gifter_stats s
             where s.stream_id = $1 and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$$;
revoke all on function app_public.top_gifters(stream_id uuid, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.top_gifters(stream_id uuid, "limit" integer) to anon, authenticated;
comment on function app_public.top_gifters(stream_id uuid, "limit" integer) is
  'Top gifters of one stream by coins spent (settled gifts), at most 100: the public part of app_public.stream_gifter_stats (SECURITY DEFINER: the rows themselves are private). Errors: BADIN.';
