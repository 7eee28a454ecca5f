-- Security: what each user spends is not public (finding 8). The stats rows are readable by the
-- gifter, the broadcaster and admins; anyone may read the top lists through the functions.
begin;
select plan(20);

select tests.create_user('gs_caster', 'broadcaster');
select tests.create_user('gs_alice');
select tests.create_user('gs_bob');
select tests.create_user('gs_eve');
select tests.create_user('gs_admin', 'admin');
insert into app_public.streams (broadcaster_id, title) select id, 'gs one' from app_public.users where username = 'gs_caster';
insert into app_public.gifts (slug, name, coin_price, art_url) values ('gs-rose', 'Rose', 5, '/gifts/rose.svg');
select app_private.issue_coins(id, 1000, 'grant', 'gs-' || username) from app_public.users where username in ('gs_alice', 'gs_bob');
create table tests.ids as select
  (select id from app_public.streams s where s.title = 'gs one') as s1,
  (select id from app_public.gifts where slug = 'gs-rose') as rose,
  (select id from app_public.users where username = 'gs_alice') as alice,
  (select id from app_public.users where username = 'gs_bob') as bob,
  (select id from app_public.users where username = 'gs_eve') as eve,
  (select id from app_public.users where username = 'gs_caster') as caster,
  (select id from app_public.users where username = 'gs_admin') as admin;
grant select on ids to public;
select tests.act_as((select alice from ids));
select app_public.send_gift((select s1 from ids), (select rose from ids), 4);
select tests.act_as((select bob from ids));
select app_public.send_gift((select s1 from ids), (select rose from ids), 1);
select tests.act_as_owner();
select app_private.process_gift_ledger_batch();

-- Anonymous visitors: no rows, only the top lists.
select tests.act_as_anon();
select throws_ok('select * from app_public.stream_gifter_stats', '42501', null, 'anon cannot read per-user spending per stream');
select throws_ok('select * from app_public.broadcaster_gifter_stats', '42501', null, 'anon cannot read per-user spending per broadcaster');
select throws_ok('select * from app_public.broadcaster_stats', '42501', null, 'anon cannot read a broadcaster''s takings per period');
select is((select array_agg((e).username || ':' || (e).coins order by (e).rank) from unnest(app_public.top_gifters((select s1 from ids))) e),
  array['gs_alice:20', 'gs_bob:5'], 'anon still sees the stream''s top gifters');
select is((select array_agg((e).username order by (e).rank) from unnest(app_public.top_gifters_of_broadcaster((select caster from ids))) e),
  array['gs_alice', 'gs_bob'], 'and the broadcaster''s top gifters');
select is((select (e).coins from unnest(app_public.leaderboard('all_time')) e where (e).username = 'gs_caster'), 25::bigint,
  'and the broadcaster leaderboard');
select throws_ok(format('select app_public.top_gifters(%L, 101)', (select s1 from ids)), 'BADIN', null, 'the top list is capped at 100');

-- Another signed-in user sees none of it.
select tests.act_as((select eve from ids));
select is((select count(*)::int from app_public.stream_gifter_stats), 0, 'a stranger sees no stream_gifter_stats row');
select is((select count(*)::int from app_public.broadcaster_gifter_stats), 0, 'nor broadcaster_gifter_stats');
select is((select count(*)::int from app_public.broadcaster_stats), 0, 'nor broadcaster_stats');
select is(array_length(app_public.top_gifters((select s1 from ids)), 1), 2, 'but the top list');

-- The gifter sees their own rows only.
select tests.act_as((select alice from ids));
select is((select array_agg(gifter_id = (select alice from ids)) from app_public.stream_gifter_stats), array[true], 'alice sees her own stream row only');
select is((select array_agg(coins) from app_public.broadcaster_gifter_stats), array[20::bigint], 'and her own broadcaster row');
select is((select count(*)::int from app_public.broadcaster_stats), 0, 'and no broadcaster''s takings');

-- The broadcaster sees who gave what on their streams, and their own takings.
select tests.act_as((select caster from ids));
select is((select count(*)::int from app_public.stream_gifter_stats where stream_id = (select s1 from ids)), 2, 'the broadcaster sees every gifter of their stream');
select is((select count(*)::int from app_public.broadcaster_gifter_stats), 2, 'and of their channel');
select is((select coins from app_public.broadcaster_stats where period = 'all_time'), 25::bigint, 'and their own takings');

-- Admins see everything.
select tests.act_as((select admin from ids));
select is((select count(*)::int from app_public.stream_gifter_stats where stream_id = (select s1 from ids)), 2, 'an admin sees stream_gifter_stats');
select is((select count(*)::int from app_public.broadcaster_gifter_stats where broadcaster_id = (select caster from ids)), 2, 'and broadcaster_gifter_stats');
select is((select count(*)::int from app_public.broadcaster_stats where broadcaster_id = (select caster from ids)), 4, 'and broadcaster_stats');

select * from finish();
rollback;
