-- send_gift: every error code, price from the catalogue, debit in the request, idempotency, the gift event.
begin;
select plan(39);

select tests.create_user('sg_caster', 'broadcaster');
select tests.create_user('sg_old_caster', 'broadcaster');
select tests.create_user('sg_alice');
select tests.create_user('sg_bob');
select tests.create_user('sg_banned');
update app_public.users set display_name = 'Alice A.', avatar_url = 'https://img.example/alice.png' where username = 'sg_alice';
update app_public.users set is_banned = true where username = 'sg_banned';
insert into app_public.streams (broadcaster_id, title) select id, 'live show' from app_public.users where username = 'sg_caster';
insert into app_public.streams (broadcaster_id, title, status, ended_at) select id, 'old show', 'ended', now() from app_public.users where username = 'sg_old_caster';
insert into app_public.gifts (slug, name, coin_price, art_url) values
  ('sg-rose', 'Rose', 5, '/gifts/rose.svg'), ('sg-crown', 'Crown', 50, 'https://cdn.example/crown.webp');
insert into app_public.gifts (slug, name, coin_price, art_url, active) values ('sg-retired', 'Retired', 1, '/gifts/old.svg', false);
select app_private.issue_coins((select id from app_public.users where username = 'sg_alice'), 100, 'grant', 'sg-alice');
select app_private.issue_coins((select id from app_public.users where username = 'sg_banned'), 100, 'grant', 'sg-banned');

create table tests.ids as select
  (select id from app_public.streams s where s.title = 'live show') as live,
  (select id from app_public.streams s where s.title = 'old show') as ended,
  (select id from app_public.gifts where slug = 'sg-rose') as rose,
  (select id from app_public.gifts where slug = 'sg-crown') as crown,
  (select id from app_public.gifts where slug = 'sg-retired') as retired,
  (select id from app_public.users where username = 'sg_alice') as alice,
  (select id from app_public.users where username = 'sg_bob') as bob,
  (select id from app_public.users where username = 'sg_caster') as caster;
grant select on ids to public;

-- Who may call it.
select tests.act_as_anon();
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), '42501', null, 'anon cannot call send_gift');
select tests.act_as('00000000-0000-0000-0000-00000000dead');
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'NOAUT', null, 'a token for a user that no longer exists: NOAUT');
select set_config('request.jwt.claims', '{"role":"authenticated"}', true);
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'NOAUT', 'sign in to send gifts', 'no sub claim: NOAUT');
select tests.act_as_owner();
select tests.act_as((select id from app_public.users where username = 'sg_banned'));
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'BANND', null, 'banned sender: BANND');

-- Validation, as Alice (100 coins).
select tests.act_as((select alice from ids));
select throws_ok(format('select app_public.send_gift(%L, %L, 0)', (select live from ids), (select rose from ids)), 'BADIN', 'quantity must be between 1 and 1000, got 0', 'quantity 0: BADIN');
select throws_ok(format('select app_public.send_gift(%L, %L, 1001)', (select live from ids), (select rose from ids)), 'BADIN', null, 'quantity 1001: BADIN');
select throws_ok(format('select app_public.send_gift(%L, %L, null)', (select live from ids), (select rose from ids)), 'BADIN', null, 'quantity null: BADIN');
select throws_ok(format('select app_public.send_gift(%L, %L)', gen_random_uuid(), (select rose from ids)), 'NOFND', null, 'unknown stream: NOFND');
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), gen_random_uuid()), 'NOFND', null, 'unknown gift: NOFND');
select throws_ok(format('select app_public.send_gift(%L, %L)', (select ended from ids), (select rose from ids)), 'NLIVE', null, 'ended stream: NLIVE');
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select retired from ids)), 'BADIN', 'gift "Retired" is no longer available', 'inactive gift: BADIN');
select throws_ok(format('select app_public.send_gift(%L, %L, 1, %L)', (select live from ids), (select rose from ids), repeat('k', 201)), 'BADIN', null, 'idempotency key too long: BADIN');

-- Insufficient funds: fails at once, nothing recorded, nothing debited.
select throws_ok(format('select app_public.send_gift(%L, %L, 3)', (select live from ids), (select crown from ids)), 'INSFD',
  'insufficient funds: 3 × "Crown" costs 150 coins, user sg_alice has 100', 'Alice cannot pay 150: INSFD');
select tests.act_as((select bob from ids));
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'INSFD', null, 'Bob has no wallet: INSFD');
select tests.act_as_owner();
select is((select count(*)::int from app_private.gift_ledger), 0, 'failed attempts left no ledger rows');
select is((select balance from app_private.wallets where user_id = (select alice from ids)), 100::bigint, 'failed attempts debited nothing');

-- The broadcaster cannot gift their own stream.
select tests.act_as((select caster from ids));
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'DENYD', null, 'gifting your own stream: DENYD');

-- Accepted: priced from the catalogue, debited at once, appended, announced.
select tests.act_as((select alice from ids));
create table tests.r1 as select * from app_public.send_gift((select live from ids), (select rose from ids), 4);
select tests.act_as_owner();
select is((select (coins, balance, status, replayed) from r1), (20::bigint, 80::bigint, 'pending'::text, false), 'receipt: 4 × 5 coins, balance 80, pending');
select is((select balance from app_private.wallets where user_id = (select alice from ids)), 80::bigint, 'the sender was debited in the request');
select is((select count(*)::int from app_private.wallets where user_id = (select caster from ids)), 0, 'the receiver''s wallet was not touched in the request');
select is((select count(*)::int from app_public.broadcaster_stats), 0, 'no leaderboard row was touched in the request');
select is((select (sender_id, receiver_id, unit_price, coins, fee_coins, status) from app_private.gift_ledger_status where id = (select gift_ledger_id from r1)),
  ((select alice from ids), (select caster from ids), 5, 20::bigint, 4::bigint, 'pending'::text), 'ledger row: price from the catalogue, 20 % fee fixed');
select is((select count(*)::int from app_private.stream_events where kind = 'gift'), 1, 'one gift event in the outbox');
select is((select payload - 'id' - 'sent_at' from app_private.stream_events where kind = 'gift'),
  jsonb_build_object('type', 'gift', 'stream_id', (select live from ids), 'receiver_id', (select caster from ids),
    'sender', jsonb_build_object('id', (select alice from ids), 'username', 'sg_alice', 'display_name', 'Alice A.', 'avatar_url', 'https://img.example/alice.png'),
    'gift', jsonb_build_object('id', (select rose from ids), 'slug', 'sg-rose', 'name', 'Rose', 'art_url', '/gifts/rose.svg', 'coin_price', 5),
    'quantity', 4, 'coins', 20), 'the gift event is self-contained (sender name, avatar, gift name and art, quantity, coins)');
select is((select (payload ->> 'id')::bigint from app_private.stream_events where kind = 'gift'), (select gift_ledger_id from r1), 'the event names the ledger entry');

-- Idempotency.
select tests.act_as((select alice from ids));
create table tests.k1 as select * from app_public.send_gift((select live from ids), (select crown from ids), 1, 'tap-key-1');
create table tests.k2 as select * from app_public.send_gift((select live from ids), (select crown from ids), 1, 'tap-key-1');
select is((select (k1.gift_ledger_id, k1.coins, k1.replayed) from k1), ((select gift_ledger_id from k1), 50::bigint, false), 'first call with a key: accepted');
select is((select gift_ledger_id from k2), (select gift_ledger_id from k1), 'same key, same arguments: the original receipt');
select is((select (replayed, balance) from k2), (true, 30::bigint), 'the replay says so, and nothing more was debited');
select throws_ok(format('select app_public.send_gift(%L, %L, 2, %L)', (select live from ids), (select crown from ids), 'tap-key-1'), 'IDEMP', null, 'same key, other quantity: IDEMP');
select throws_ok(format('select app_public.send_gift(%L, %L, 1, %L)', (select live from ids), (select rose from ids), 'tap-key-1'), 'IDEMP', null, 'same key, other gift: IDEMP');
select throws_ok(format('select app_public.send_gift(%L, %L, 1, %L)', (select ended from ids), (select crown from ids), 'tap-key-1'), 'IDEMP', null, 'same key, other stream: IDEMP');
select tests.act_as_owner();
update app_public.streams set status = 'ended', ended_at = now() where id = (select live from ids);
select tests.act_as((select alice from ids));
select is((select gift_ledger_id from app_public.send_gift((select live from ids), (select crown from ids), 1, 'tap-key-1')), (select gift_ledger_id from k1),
  'a replay still answers after the stream ended');
select tests.act_as_owner();
update app_public.streams set status = 'live', ended_at = null where id = (select live from ids);
select app_private.issue_coins((select bob from ids), 50, 'grant', 'sg-bob');
select tests.act_as((select bob from ids));
select is((select replayed from app_public.send_gift((select live from ids), (select crown from ids), 1, 'tap-key-1')), false, 'keys are per sender: Bob''s tap-key-1 is a new gift');
select tests.act_as_owner();
select is((select count(*)::int from app_private.gift_ledger), 3, 'three gifts accepted in all');
select is((select count(*)::int from app_private.stream_events where kind = 'gift'), 3, 'one event per accepted gift (none for replays)');

-- Exactly enough is enough; one coin short is not.
select tests.act_as((select alice from ids));
select is((select balance from app_public.send_gift((select live from ids), (select rose from ids), 6)), 0::bigint, 'spending the last coin: balance 0');
select throws_ok(format('select app_public.send_gift(%L, %L)', (select live from ids), (select rose from ids)), 'INSFD', null, 'then: INSFD');
select is((app_public.my_wallet()).balance, 0::bigint, 'my_wallet shows 0');
select tests.act_as_owner();
select is((select count(*)::int from app_private.gift_audit()), 0, 'audit is clean (holds balance the wallets)');

select * from finish();
rollback;
