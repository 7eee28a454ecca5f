-- Settlement: credits, fee split, stats per period (UTC boundaries), events, batch logs, failures,
-- reversals, leaderboards and their errors, coin issuing.
begin;
select plan(52);
create table tests.test_start as select now() as t0;
grant select on test_start to public;

select tests.create_user('st_caster', 'broadcaster');
select tests.create_user('st_caster2', 'broadcaster');
select tests.create_user('st_alice');
select tests.create_user('st_bob');
select tests.create_user('st_admin', 'admin');
insert into app_public.streams (broadcaster_id, title) select id, 'st one' from app_public.users where username = 'st_caster';
insert into app_public.streams (broadcaster_id, title) select id, 'st two' from app_public.users where username = 'st_caster2';
insert into app_public.gifts (slug, name, coin_price, art_url) values ('st-rose', 'Rose', 5, '/gifts/rose.svg'), ('st-gem', 'Gem', 7, '/gifts/gem.svg');
select app_private.issue_coins(id, 1000, 'grant', 'st-' || username) from app_public.users where username in ('st_alice', 'st_bob');

create table tests.ids as select
  (select id from app_public.streams s where s.title = 'st one') as s1,
  (select id from app_public.streams s where s.title = 'st two') as s2,
  (select id from app_public.gifts where slug = 'st-rose') as rose,
  (select id from app_public.gifts where slug = 'st-gem') as gem,
  (select id from app_public.users where username = 'st_alice') as alice,
  (select id from app_public.users where username = 'st_bob') as bob,
  (select id from app_public.users where username = 'st_caster') as caster,
  (select id from app_public.users where username = 'st_caster2') as caster2,
  (select id from app_public.users where username = 'st_admin') as admin;
grant select on ids to public;

-- An empty batch still logs (proof the schedule runs).
select is((select (processed, settled, failed, backlog_count) from app_private.process_gift_ledger_batch()), (0, 0, 0, 0::bigint), 'empty batch: logged with zeros');

-- Gifts: Alice 10 roses (50) + 3 gems (21, fee 15 %) to caster; Bob 2 roses (10) to caster; Bob 1 gem to caster2.
select tests.act_as((select alice from ids));
select app_public.send_gift((select s1 from ids), (select rose from ids), 10);
select tests.act_as_owner();
update app_private.settings set value = '1500' where key = 'gift_fee_bps';
select tests.act_as((select alice from ids));
select app_public.send_gift((select s1 from ids), (select gem from ids), 3);
select tests.act_as((select bob from ids));
select app_public.send_gift((select s1 from ids), (select rose from ids), 2);
select app_public.send_gift((select s2 from ids), (select gem from ids), 1);
select tests.act_as_owner();
select is((select array_agg(fee_coins order by id) from app_private.gift_ledger), array[10, 3, 1, 1]::bigint[],
  'fees fixed at send time: 20 % of 50 = 10; then 15 % of 21 = 3 (3.15 rounded down), of 10 = 1, of 7 = 1 (1.05)');

-- A batch of 3 leaves 1 behind.
create table tests.b1 as select * from app_private.process_gift_ledger_batch(3);
select is((select (processed, settled, failed, backlog_count, coins_settled, fees, streams) from b1), (3, 3, 0, 1::bigint, 81::bigint, 14::bigint, 1),
  'batch of 3: 81 coins settled, 14 in fees, one stream, one gift left');
select ok((select duration_ms >= 0 and oldest_settled_lag_ms >= 0 and oldest_pending_lag_ms >= 0 from b1), 'the log carries duration and both lags');
select is((select balance from app_private.wallets where user_id = (select caster from ids)), 67::bigint, 'caster credited once with the net (81 - 14)');
select is((select count(*)::int from app_private.coin_transactions where batch_id = (select id from b1) and kind = 'gift_settlement'), 1,
  'one credit entry per receiver per batch');
select is((select amount from app_private.coin_transactions where batch_id = (select id from b1) and kind = 'gift_fee'), 14::bigint, 'fees go to the platform account');
select is((select count(*)::int from app_private.gift_ledger_status where status = 'settled' and batch_id = (select id from b1)), 3, 'three ledger rows settled by this batch');
select is((select count(*)::int from app_private.stream_events where kind = 'leaderboard'), 1, 'one leaderboard event for the one affected stream');
select is((select array_agg(outcome) from app_private.gift_batch_items where batch_id = (select id from b1)), array['settled'],
  'the batch records its gifts as settled');
select is((select (app_private.gift_status(min(id))).status from app_private.gift_ledger), 'settled', 'gift_status(): the first gift is settled');
select is((select (app_private.gift_status(max(id))).status from app_private.gift_ledger), 'pending', 'gift_status(): the fourth is still pending');
select is((select (app_private.gift_status(min(id))).batch_id from app_private.gift_ledger), (select id from b1), 'gift_status() names the batch');
select is((select (payload #> '{top_gifters,0}') - 'avatar_url'::text from app_private.stream_events where kind = 'leaderboard'),
  jsonb_build_object('rank', 1, 'user_id', (select alice from ids), 'username', 'st_alice', 'display_name', 'st_alice', 'coins', 71, 'gifts', 13),
  'the leaderboard event carries the top gifters with their names');
select is((select payload -> 'earnings' from app_private.stream_events where kind = 'leaderboard'),
  '{"coins_today": 81, "coins_all_time": 81, "earned_all_time": 67}'::jsonb, 'and the broadcaster''s earnings');

create table tests.b2 as select * from app_private.process_gift_ledger_batch();
select is((select (processed, settled, backlog_count, oldest_pending_lag_ms) from b2), (1, 1, 0::bigint, null::numeric), 'the next batch takes the rest');
select is((select balance from app_private.wallets where user_id = (select caster2 from ids)), 6::bigint, 'caster2 credited 7 - 1');
select is((select count(*)::int from app_private.gift_ledger_status where status = 'pending'), 0, 'nothing pending');
select is((select count(*)::int from app_private.gift_settlement_queue), 0, 'the settlement queue is empty');
select is((select count(*)::int from app_private.stream_events where kind = 'leaderboard'), 2, 'one more event, for the second stream');

-- Stats.
select is((select array_agg((period, coins, earned_coins, gifts)::text order by period) from app_public.broadcaster_stats where broadcaster_id = (select caster from ids)),
  array['(all_time,81,67,15)', '(day,81,67,15)', '(month,81,67,15)', '(week,81,67,15)'], 'broadcaster_stats in all four periods');
select is((select period_start from app_public.broadcaster_stats where broadcaster_id = (select caster from ids) and period = 'all_time'),
  '1970-01-01 00:00:00+00'::timestamptz, 'all_time starts at the epoch');
select is((select array_agg((gifter_id = (select alice from ids), coins, gifts) order by coins desc)::text from app_public.stream_gifter_stats where stream_id = (select s1 from ids)),
  '{"(t,71,13)","(f,10,2)"}', 'stream top gifters: Alice 71, Bob 10');
select is((select coins from app_public.broadcaster_gifter_stats where broadcaster_id = (select caster2 from ids) and gifter_id = (select bob from ids)), 7::bigint,
  'gifter stats per broadcaster');

-- Leaderboards, through the API roles.
select tests.act_as_anon();
select is((select array_agg((rank, username, coins)::text order by rank) from unnest(app_public.leaderboard('day', 10))), array['(1,st_caster,81)', '(2,st_caster2,7)'],
  'leaderboard(day): ranked by coins received');
select is((select array_agg(username order by rank) from unnest(app_public.leaderboard('all_time', 1))), array['st_caster'], 'the limit is honoured');
select is((select array_agg((rank, username, coins)::text order by rank) from unnest(app_public.top_gifters((select s1 from ids)))), array['(1,st_alice,71)', '(2,st_bob,10)'],
  'top_gifters(stream)');
select is((select array_agg(username) from unnest(app_public.top_gifters_of_broadcaster((select caster2 from ids), 5))), array['st_bob'], 'top gifters of a broadcaster');
select throws_ok($$ select * from app_public.leaderboard('year', 10) $$, 'BADIN', null, 'unknown period: BADIN');
select throws_ok($$ select * from app_public.leaderboard('day', 101) $$, 'BADIN', null, 'limit over 100: BADIN');
select throws_ok($$ select * from app_public.leaderboard('day', 0) $$, 'BADIN', null, 'limit 0: BADIN');
select tests.act_as((select alice from ids));
select throws_ok($$ select * from app_public.gift_batch_logs() $$, 'DENYD', null, 'a viewer cannot read batch logs');
select tests.act_as((select admin from ids));
select is((select count(*)::int from unnest(app_public.gift_batch_logs(10)) b where b.started_at >= (select t0 from test_start)), 3,
  'an admin reads the batch logs (this test''s three; a running worker may have logged more)');
select tests.act_as_owner();

-- Period boundaries are explicit UTC, whatever the session time zone.
set local timezone = 'America/Los_Angeles';
insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, created_at)
select (select alice from ids), (select caster2 from ids), (select s2 from ids), (select rose from ids), 1, 5, 5, 0, t
  from unnest(array['2024-03-31 23:59:59.999999+00', '2024-04-01 00:00:00+00']::timestamptz[]) t;
update app_private.wallets set balance = balance - 10 where user_id = (select alice from ids);
select app_private.process_gift_ledger_batch();
select is((select array_agg(period_start::text order by period_start) from app_public.broadcaster_stats
            where broadcaster_id = (select caster2 from ids) and period = 'day' and period_start < '2025-01-01'),
  array['2024-03-30 17:00:00-07', '2024-03-31 17:00:00-07'], 'day buckets split at midnight UTC (shown in LA time)');
reset timezone;
select is((select array_agg(period_start::text order by period_start) from app_public.broadcaster_stats
            where broadcaster_id = (select caster2 from ids) and period = 'week' and period_start < '2025-01-01'),
  array['2024-03-25 00:00:00+00', '2024-04-01 00:00:00+00'], 'ISO weeks start on Monday 00:00 UTC');
select is((select array_agg(period_start::text order by period_start) from app_public.broadcaster_stats
            where broadcaster_id = (select caster2 from ids) and period = 'month' and period_start < '2025-01-01'),
  array['2024-03-01 00:00:00+00', '2024-04-01 00:00:00+00'], 'months start on the 1st 00:00 UTC');

-- A banned receiver's gifts fail and are refunded.
select tests.act_as((select bob from ids));
select app_public.send_gift((select s2 from ids), (select rose from ids), 4);
select tests.act_as_owner();
update app_public.users set is_banned = true where id = (select caster2 from ids);
create table tests.b4 as select * from app_private.process_gift_ledger_batch();
select is((select (processed, settled, failed) from b4), (1, 0, 1), 'banned receiver: the gift fails');
select is((select balance from app_private.wallets where user_id = (select bob from ids)), 983::bigint, 'and Bob is refunded (1000 - 10 - 7)');
select is((select (app_private.gift_status(max(id))).status from app_private.gift_ledger), 'failed', 'gift_status(): the refunded gift failed');
update app_public.users set is_banned = false where id = (select caster2 from ids);

-- Refund/chargeback of a settled gift: reversing entries.
select is((select count(*)::int from app_private.gift_audit()), 0, 'audit clean before the reversal');
create table tests.rev as select app_private.reverse_gift((select min(id) from app_private.gift_ledger), 'chargeback test') as tx;
select is((select balance from app_private.wallets where user_id = (select alice from ids)), 1000::bigint - 50 - 21 - 10 + 50, 'the sender gets the full 50 back');
select is((select balance from app_private.wallets where user_id = (select caster from ids)), 67::bigint - 40, 'the receiver gives back the net 40');
select is((select coins from app_public.broadcaster_stats where broadcaster_id = (select caster from ids) and period = 'all_time'), 31::bigint, 'stats decremented');
select is(app_private.reverse_gift((select min(id) from app_private.gift_ledger), 'again'), (select tx from rev), 'reversing twice returns the first reversal');
select is((select count(*)::int from app_private.gift_audit()), 0, 'audit clean after the reversal');
select throws_ok(format('select app_private.reverse_gift(%s, %L)', (select max(id) from app_private.gift_ledger), 'x'), 'CONFL', null, 'a failed gift cannot be reversed');

-- Issuing coins: admin grants and provider purchases, both idempotent where keyed.
select tests.act_as((select alice from ids));
select throws_ok(format('select app_public.grant_coins(%L, 10, %L)', (select alice from ids), 'me'), 'DENYD', null, 'a viewer cannot grant coins');
select tests.act_as((select admin from ids));
select is((app_public.grant_coins((select bob from ids), 17, 'contest prize')).balance, 1000::bigint, 'an admin grants coins');
select throws_ok(format('select app_public.grant_coins(%L, 0, %L)', (select bob from ids), 'zero'), 'BADIN', null, 'granting 0: BADIN');
select tests.act_as_owner();
select is((select (duplicate, balance) from app_private.purchase_coins('teststripe', 'evt_1', (select bob from ids), 500, 499, 'USD')), (false, 1500::bigint), 'purchase credited');
select is((select (duplicate, balance) from app_private.purchase_coins('teststripe', 'evt_1', (select bob from ids), 500, 499, 'USD')), (true, 1500::bigint), 'same provider event: not credited twice');
select is((select count(*)::int from app_private.gift_audit()), 0, 'audit clean at the end');

select * from finish();
rollback;
