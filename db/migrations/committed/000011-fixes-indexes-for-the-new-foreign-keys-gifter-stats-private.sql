--! Previous: sha1:292ae59ee64f933a7727e9eee7bf6ba3ebd456f3
--! Hash: sha1:0742559a07ca777ef799314ce0885f7bffe1fa52
--! Message: Fixes: indexes for the new foreign keys, gifter stats private

--! split: 900-fixes.sql
-- Fixes after merging the web app (accounts, coins, admin) with the studio and the security work.
-- Re-runnable.

-- Foreign keys of the web accounts tables get an index of their own (lint: unindexed_foreign_keys;
-- wallet_debts_open_idx is partial, so it does not serve the foreign key's checks).
create index if not exists checkout_sessions_pack_id_idx on app_private.checkout_sessions (pack_id);
create index if not exists wallet_debts_user_id_idx on app_private.wallet_debts (user_id);

-- Spending is private (finding 8) for gifter_stats too: the public gifter leaderboard is the current
-- period's top list through a SECURITY DEFINER function, like app_public.leaderboard().
--! Included gifts/gifter_stats.access.sql
-- What each user spent per period is theirs (finding 8): the gifter and admins see the rows; everyone
-- else the current period's top list through app_public.gifter_leaderboard().
drop policy if exists select_all on app_public.gifter_stats;
drop policy if exists select_own on app_public.gifter_stats;
create policy select_own on app_public.gifter_stats for select to authenticated
  using (gifter_id = (select app_public.current_user_id())
         or exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
revoke all on table app_public.gifter_stats from public, anon, authenticated;
grant select on table app_public.gifter_stats to authenticated;
--! EndIncluded gifts/gifter_stats.access.sql
--! Included gifts/gifter_leaderboard.sql
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
--! EndIncluded gifts/gifter_leaderboard.sql
