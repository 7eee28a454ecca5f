-- send_gifts: the batch (group-commit) form of send_gift. Who may call it, one outcome per request in
-- a mixed batch, duplicate idempotency keys inside one batch, running balances, replays across
-- batches, the same messages as send_gift, one outbox event per gift, audit clean.
begin;
select plan(32);

select tests.create_user('sb_caster', 'broadcaster');
select tests.create_user('sb_old_caster', 'broadcaster');
select tests.create_user('sb_alice');
select tests.create_user('sb_bob');
select tests.create_user('sb_banned');
update app_public.users set is_banned = true where username = 'sb_banned';
insert into app_public.streams (broadcaster_id, title) select id, 'sb live' from app_public.users where username = 'sb_caster';
insert into app_public.streams (broadcaster_id, title, status, ended_at) select id, 'sb old', 'ended', now() from app_public.users where username = 'sb_old_caster';
insert into app_public.gifts (slug, name, coin_price, art_url) values ('sb-rose', 'Rose', 5, '/gifts/rose.svg'), ('sb-crown', 'Crown', 50, '/gifts/crown.svg');
insert into app_public.gifts (slug, name, coin_price, art_url, active) values ('sb-retired', 'Retired', 1, '/gifts/old.svg', false);
select app_private.issue_coins((select id from app_public.users where username = 'sb_alice'), 100, 'grant', 'sb-alice');
select app_private.issue_coins((select id from app_public.users where username = 'sb_banned'), 100, 'grant', 'sb-banned');
select app_private.issue_coins((select id from app_public.users where username = 'sb_caster'), 10, 'grant', 'sb-caster');

create table tests.ids as select
  (select id from app_public.streams s where s.title = 'sb live') as live,
  (select id from app_public.streams s where s.title = 'sb old') as ended,
  (select id from app_public.gifts where slug = 'sb-rose') as rose,
  (select id from app_public.gifts where slug = 'sb-crown') as crown,
  (select id from app_public.gifts where slug = 'sb-retired') as retired,
  (select id from app_public.users where username = 'sb_alice') as alice,
  (select id from app_public.users where username = 'sb_bob') as bob,
  (select id from app_public.users where username = 'sb_banned') as banned,
  (select id from app_public.users where username = 'sb_caster') as caster;
grant select on ids to public;

-- Only the server role may run it: it trusts the sender ids it is given.
select ok(not has_function_privilege('anon', 'app_private.send_gifts(jsonb)', 'execute'), 'anon cannot execute send_gifts');
select ok(not has_function_privilege('authenticated', 'app_private.send_gifts(jsonb)', 'execute'), 'authenticated cannot execute send_gifts');
select ok(not exists (select 1 from pg_proc p, aclexplode(p.proacl) a where p.oid = 'app_private.send_gifts(jsonb)'::regprocedure and a.grantee = 0),
  'PUBLIC cannot execute send_gifts');
select ok(has_function_privilege('trollcity_server', 'app_private.send_gifts(jsonb)', 'execute'), 'trollcity_server can');
select ok(pg_has_role('authenticator', 'trollcity_server', 'member'), 'authenticator may switch to trollcity_server');
select tests.act_as((select alice from ids));
select throws_ok('select * from app_private.send_gifts(''[]'')', '42501', null, 'a signed-in user calling it directly: 42501');
select tests.act_as_owner();

-- One mixed batch, as the server sends it.
create function tests.req(sender uuid, stream uuid, gift uuid, quantity int, key text) returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('sender_id', sender, 'stream_id', stream, 'gift_id', gift, 'idempotency_key', key))
         || case when quantity is null then '{}'::jsonb else jsonb_build_object('quantity', quantity) end $$;
create table tests.reqs1 as select jsonb_build_array(
  tests.req(alice, live, rose, 4, 'k1'),          -- 1 accepted: 20 coins, balance 80
  tests.req(alice, live, rose, 4, 'k1'),          -- 2 same key, same gift: replay of 1
  tests.req(alice, live, rose, 5, 'k1'),          -- 3 same key, other quantity: IDEMP
  tests.req(bob, live, rose, 1, null),            -- 4 no wallet: INSFD
  tests.req(alice, live, rose, 0, null),          -- 5 BADIN quantity
  tests.req(banned, live, rose, 1, null),         -- 6 BANND
  tests.req(alice, gen_random_uuid(), rose, 1, null), -- 7 NOFND stream
  tests.req(alice, ended, rose, 1, null),         -- 8 NLIVE
  tests.req(caster, live, rose, 1, null),         -- 9 DENYD own stream
  tests.req(alice, live, retired, 1, null),       -- 10 BADIN inactive gift
  tests.req(null, live, rose, 1, null),           -- 11 NOAUT
  tests.req(alice, live, crown, 1, 'k2'),         -- 12 accepted: 50 coins, balance 30
  tests.req(alice, live, crown, 1, null),         -- 13 INSFD against the running balance (30)
  tests.req(alice, live, rose, null, 'k3'),       -- 14 quantity absent: 1, balance 25
  tests.req(alice, live, rose, 1, repeat('x', 201)) -- 15 BADIN key
) as j from ids;
grant select on reqs1 to public;

-- The same requests through send_gift, one after another, each as its sender: what the batch must
-- reproduce. Run in a savepoint and rolled back; the outcomes are kept in a psql variable.
create function tests.sequential(reqs jsonb) returns table (ord int, code text, message text, balance bigint, replayed boolean)
  language plpgsql as $$
declare
  e jsonb;
  i int := 0;
  rc app_public.gift_receipt;
begin
  for e in select x from jsonb_array_elements(reqs) x loop
    i := i + 1;
    begin
      perform tests.act_as((e ->> 'sender_id')::uuid);
      rc := app_public.send_gift((e ->> 'stream_id')::uuid, (e ->> 'gift_id')::uuid,
                                 case when e ? 'quantity' then (e ->> 'quantity')::int else 1 end, e ->> 'idempotency_key');
      perform tests.act_as_owner();
      return query select i, null::text, null::text, rc.balance, rc.replayed;
    exception when others then
      perform tests.act_as_owner();
      return query select i, sqlstate, sqlerrm, null::bigint, null::boolean;
    end;
  end loop;
end $$;
savepoint before_sequential;
select jsonb_agg(to_jsonb(s) order by s.ord) as sequential from tests.sequential((select j from reqs1)) s \gset
rollback to savepoint before_sequential;

set local role trollcity_server;
create table tests.b1 as select * from app_private.send_gifts((select j from reqs1));
reset role;
grant select on b1 to public;

select is((select jsonb_agg(jsonb_build_object('ord', ord, 'code', error_code,
                              'message', case when error_code = 'IDEMP' then 'IDEMP' else error_message end,
                              'balance', balance, 'replayed', replayed) order by ord) from b1),
          (select jsonb_agg(jsonb_build_object('ord', (x ->> 'ord')::int, 'code', x ->> 'code',
                              'message', case when x ->> 'code' = 'IDEMP' then 'IDEMP' else x ->> 'message' end,
                              'balance', (x ->> 'balance')::bigint, 'replayed', (x ->> 'replayed')::boolean) order by (x ->> 'ord')::int)
             from jsonb_array_elements(:'sequential'::jsonb) x),
          'the batch decides every request exactly as send_gift called once per request, in order (codes, messages, balances, replays)');

select is((select count(*)::int from b1), 15, 'one outcome per request');
select is((select array_agg(ord order by ord) from b1), (select array_agg(i) from generate_series(1, 15) i), 'in request order');
select is((select array_agg(coalesce(error_code, 'ok') order by ord) from b1),
  array['ok', 'ok', 'IDEMP', 'INSFD', 'BADIN', 'BANND', 'NOFND', 'NLIVE', 'DENYD', 'BADIN', 'NOAUT', 'ok', 'INSFD', 'ok', 'BADIN'],
  'each request has its own outcome; the bad ones did not fail the good ones');
select is((select (coins, balance, status, replayed) from b1 where ord = 1), (20::bigint, 80::bigint, 'pending'::text, false), 'request 1: accepted, debited');
select is((select (gift_ledger_id, replayed, balance) from b1 where ord = 2), ((select gift_ledger_id from b1 where ord = 1), true, 80::bigint),
  'request 2: the same key in the same batch replays request 1');
select is((select error_message from b1 where ord = 3),
  format('idempotency key "k1" was already used for another gift (ledger entry %s)', (select gift_ledger_id from b1 where ord = 1)), 'request 3: IDEMP names the entry');
select is((select error_message from b1 where ord = 5), 'quantity must be between 1 and 1000, got 0', 'send_gift''s BADIN message');
select is((select error_message from b1 where ord = 13), 'insufficient funds: 1 × "Crown" costs 50 coins, user sb_alice has 30',
  'INSFD against the balance left by the earlier requests, with send_gift''s message');
select is((select (quantity, coins, balance) from b1 where ord = 14), (1, 5::bigint, 25::bigint), 'request 14: quantity defaults to 1');
select is((select error_message from b1 where ord = 9), format('user sb_caster cannot send gifts to their own stream %s', (select live from ids)), 'DENYD message');

select is((select count(*)::int from app_private.gift_ledger where sender_id = (select alice from ids)), 3, 'three ledger rows: one per accepted gift');
select is((select balance from app_private.wallets where user_id = (select alice from ids)), 25::bigint, 'Alice debited once per accepted gift');
select is((select balance from app_private.wallets where user_id = (select banned from ids)), 100::bigint, 'refused senders were not debited');
select is((select count(*)::int from app_private.stream_events where kind = 'gift'), 3, 'one outbox event per accepted gift');
select is((select array_agg((payload ->> 'id')::bigint order by id) from app_private.stream_events where kind = 'gift'),
  (select array_agg(gift_ledger_id order by ord) from b1 where ord in (1, 12, 14)), 'events in request order, naming their ledger rows');
select is((select payload -> 'sender' ->> 'username' from app_private.stream_events where kind = 'gift' limit 1), 'sb_alice', 'the event carries the sender');
select is((select count(*)::int from app_private.gift_settlement_queue), 3, 'every accepted gift queued for settlement');
select is((select (fee_coins, unit_price) from app_private.gift_ledger where id = (select gift_ledger_id from b1 where ord = 12)), (10::bigint, 50),
  'price from the catalogue, fee fixed');

-- A second batch: keys from the first are replays of committed rows (send_gift's replay rule).
create table tests.reqs2 as select jsonb_build_array(
  tests.req(alice, live, rose, 4, 'k1'),
  tests.req(alice, live, crown, 2, 'k2'),
  tests.req(alice, live, rose, 1, 'k4')
) as j from ids;
grant select on reqs2 to public;
set local role trollcity_server;
create table tests.b2 as select * from app_private.send_gifts((select j from reqs2));
reset role;
select is((select (gift_ledger_id, replayed, balance, status) from b2 where ord = 1),
  ((select gift_ledger_id from b1 where ord = 1), true, 25::bigint, 'pending'::text), 'a later batch replays a committed key');
select is((select error_code from b2 where ord = 2), 'IDEMP', 'and refuses it with other arguments');
select is((select (replayed, balance) from b2 where ord = 3), (false, 20::bigint), 'a new key in the later batch is accepted');

-- The single-request function sees the batch's keys too.
select tests.act_as((select alice from ids));
select is((select (gift_ledger_id, replayed) from app_public.send_gift((select live from ids), (select rose from ids), 4, 'k1')),
  ((select gift_ledger_id from b1 where ord = 1), true), 'send_gift replays a key the batch committed');
select tests.act_as_owner();

-- Not an array: refused as a whole (a server bug, not a request).
set local role trollcity_server;
select throws_ok('select * from app_private.send_gifts(''{}'')', 'BADIN', null, 'not an array: BADIN');
select is((select count(*)::int from app_private.send_gifts('[]')), 0, 'an empty batch returns nothing');
reset role;

select is_empty('select * from app_private.gift_audit()', 'gift_audit() is clean after the batches');

select * from finish();
rollback;
