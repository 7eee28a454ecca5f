-- The studio's SQL (issue 12): stream details (category, thumbnail) and their validation, the
-- broadcaster's earnings per current period, the gifter leaderboard by period (gifter_stats kept by
-- settlement and reversals, checked by gift_audit).
begin;
select plan(25);

select tests.create_user('ws_caster', 'broadcaster');
select tests.create_user('ws_alice');
select tests.create_user('ws_bob');
insert into app_public.gifts (slug, name, coin_price, art_url) values ('ws-rose', 'Rose', 5, '/gifts/rose.svg');
select app_private.issue_coins(id, 1000, 'grant', 'ws-' || username) from app_public.users where username in ('ws_alice', 'ws_bob');
select tests.act_as((select id from app_public.users where username = 'ws_caster'));
create table tests.ids as select
  (app_public.go_live('studio test')).id as s1,
  (select id from app_public.gifts where slug = 'ws-rose') as rose,
  (select id from app_public.users where username = 'ws_alice') as alice,
  (select id from app_public.users where username = 'ws_bob') as bob,
  (select id from app_public.users where username = 'ws_caster') as caster;
grant select on ids to public;

-- Details: the broadcaster sets them, others may not, bad values are BADIN.
select is((select (title, category, thumbnail_url)::text from app_public.set_stream_details((select s1 from ids), ' Late show ', 'music', '/thumbnails/x.svg')),
  '("Late show",music,/thumbnails/x.svg)', 'the broadcaster sets title, category and thumbnail');
select is((select (category, thumbnail_url)::text from app_public.set_stream_details((select s1 from ids), 'Late show', '', ' ')),
  '(,)', 'empty category and thumbnail clear them');
select throws_ok($$ select app_public.set_stream_details((select s1 from ids), 'x', 'cooking') $$, 'BADIN', null, 'an unknown category is refused');
select throws_ok($$ select app_public.set_stream_details((select s1 from ids), 'x', null, 'javascript:alert(1)') $$, 'BADIN', null,
  'a non-https thumbnail is refused');
select throws_ok($$ select app_public.set_stream_details((select s1 from ids), 'x', null, '//evil.example/a.png') $$, 'BADIN', null,
  'a protocol-relative thumbnail is refused');
select throws_ok($$ select app_public.set_stream_details((select s1 from ids), '   ') $$, 'BADIN', null, 'an empty title is refused');
select ok(app_public.stream_categories() @> array['music', 'gaming'], 'the categories are listed');
select tests.act_as_owner();
select throws_ok($$ update app_public.streams set category = 'cooking' where id = (select s1 from ids) $$, '23514', null,
  'the table refuses an unknown category too');
select tests.act_as((select alice from ids));
select throws_ok($$ select app_public.set_stream_details((select s1 from ids), 'mine now') $$, 'DENYD', null, 'a viewer may not change the stream');

-- Asking to join the stage: seen by the asker and the managers, idempotent, cleared by an invitation.
select tests.act_as((select alice from ids));
select is((select user_id from app_public.request_seat((select s1 from ids))), (select alice from ids), 'a viewer asks to join the stage');
select app_public.request_seat((select s1 from ids));
select tests.act_as_owner();
select is((select count(*) from app_private.stream_events where stream_id = (select s1 from ids) and kind = 'seat'
            and payload ->> 'action' = 'requested')::int, 1, 'asking twice announces once');
select tests.act_as((select bob from ids));
select is((select count(*) from app_public.stream_seat_requests)::int, 0, 'another viewer does not see the request');
select tests.act_as((select caster from ids));
select is((select count(*) from app_public.stream_seat_requests where stream_id = (select s1 from ids))::int, 1, 'the broadcaster sees it');
select throws_ok($$ select app_public.request_seat((select s1 from ids)) $$, 'BADIN', null, 'the broadcaster cannot ask');
select app_public.invite_to_seat((select s1 from ids), (select alice from ids));
select is((select count(*) from app_public.stream_seat_requests where stream_id = (select s1 from ids))::int, 0, 'an invitation clears the request');
select tests.act_as((select alice from ids));
select throws_ok($$ select app_public.request_seat((select s1 from ids)) $$, 'SEATF', null, 'an invited viewer cannot ask again');

-- Gifts settle into earnings and the gifter leaderboard.
select app_public.send_gift((select s1 from ids), (select rose from ids), 10);
select tests.act_as((select bob from ids));
select app_public.send_gift((select s1 from ids), (select rose from ids), 2);
select tests.act_as_owner();
select app_private.process_gift_ledger_batch();
select tests.act_as((select caster from ids));
select is((select array_agg((period, coins, gifts)::text order by period) from app_public.broadcaster_earnings((select caster from ids))),
  array['(all_time,60,12)', '(day,60,12)', '(month,60,12)', '(week,60,12)'], 'earnings for each current period (the broadcaster''s own)');
select tests.act_as_anon();
select is((select (l[1]).username || ':' || (l[1]).coins || ',' || (l[2]).username || ':' || (l[2]).coins
             from (select app_public.gifter_leaderboard('day', 10) l) x), 'ws_alice:50,ws_bob:10', 'the gifter leaderboard ranks by coins spent');
select is((select count(*) from unnest(app_public.gifter_leaderboard('all_time', 100)) e where e.username like 'ws_%')::int, 2,
  'all time has both gifters');
select throws_ok($$ select app_public.gifter_leaderboard('year') $$, 'BADIN', null, 'an unknown period is refused');
select throws_ok($$ select app_public.gifter_leaderboard('day', 101) $$, 'BADIN', null, 'at most 100 entries');
-- Spending per period is private (finding 8): the top list above is public, the rows are not.
select throws_ok('select * from app_public.gifter_stats', '42501', null, 'anon cannot read gifter_stats');
select tests.act_as((select bob from ids));
select is((select array_agg(distinct gifter_id = (select bob from ids)) from app_public.gifter_stats), array[true],
  'a gifter sees only their own gifter_stats rows');

-- A reversal takes the gift out of gifter_stats; gift_audit stays clean.
select tests.act_as_owner();
select app_private.reverse_gift((select min(id) from app_private.gift_ledger where sender_id = (select bob from ids)), 'chargeback');
select is((select coins from app_public.gifter_stats where gifter_id = (select bob from ids) and period = 'all_time'), 0::bigint,
  'a reversal decrements the gifter''s stats');
select is((select count(*) from app_private.gift_audit() where invariant = 'gifter_stats = ledger')::int, 0, 'gift_audit: gifter_stats = ledger');

select * from finish();
rollback;
