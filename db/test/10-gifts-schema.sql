-- Gift economy: schema, privileges per role, append-only ledgers, wallet constraint.
begin;
select plan(48);

select has_table('app_public', 'gifts', 'catalogue table');
select has_table('app_private', 'wallets', 'wallets table');
select has_table('app_private', 'gift_ledger', 'gift ledger table');
select has_table('app_private', 'coin_transactions', 'coin transactions table');
select has_table('app_public', 'broadcaster_stats', 'broadcaster stats table');
select has_table('app_public', 'gift_batch_logs', 'batch log table');
select has_function('app_public', 'send_gift', array['uuid', 'uuid', 'integer', 'text'], 'send_gift(stream_id, gift_id, quantity, idempotency_key)');
select has_function('app_private', 'process_gift_ledger_batch', array['integer'], 'process_gift_ledger_batch(max_rows)');
select has_function('app_public', 'leaderboard', array['text', 'integer'], 'leaderboard(period, limit)');
select is(
  (select array_agg(p.parameter_name::text order by p.ordinal_position) from information_schema.parameters p
    join information_schema.routines r on r.specific_name = p.specific_name
   where r.routine_schema = 'app_public' and r.routine_name = 'send_gift' and p.parameter_mode = 'IN'),
  array['stream_id', 'gift_id', 'quantity', 'idempotency_key'], 'send_gift argument names are the contract');

-- Request roles: no way into money tables or internals.
select ok(not has_table_privilege('authenticated', 'app_private.wallets', 'select'), 'authenticated cannot read wallets');
select ok(not has_table_privilege('authenticated', 'app_private.wallets', 'update'), 'authenticated cannot update wallets');
select ok(not has_table_privilege('anon', 'app_private.wallets', 'update'), 'anon cannot update wallets');
select ok(not has_table_privilege('authenticated', 'app_private.gift_ledger', 'insert'), 'authenticated cannot insert into the ledger');
select ok(not has_table_privilege('authenticated', 'app_private.coin_transactions', 'select'), 'authenticated cannot read coin transactions');
select ok(not has_table_privilege('authenticated', 'app_private.gift_settlement_queue', 'select'), 'authenticated cannot read the settlement queue');
select ok(not has_table_privilege('authenticated', 'app_private.gift_settlement_queue', 'delete'), 'authenticated cannot dequeue gifts');
select ok(not has_table_privilege('authenticated', 'app_private.gift_batch_items', 'insert'), 'authenticated cannot record batch outcomes');
select ok(not has_function_privilege('authenticated', 'app_private.process_gift_ledger_batch(integer)', 'execute'), 'authenticated cannot run settlement');
select ok(not has_function_privilege('anon', 'app_private.process_gift_ledger_batch(integer)', 'execute'), 'anon cannot run settlement');
select ok(not has_function_privilege('authenticated', 'app_private.issue_coins(uuid, bigint, text, text, text)', 'execute'), 'authenticated cannot issue coins');
select ok(not has_function_privilege('authenticated', 'app_private.purchase_coins(text, text, uuid, integer, integer, text, jsonb)', 'execute'), 'authenticated cannot fake a purchase');
select ok(not has_function_privilege('authenticated', 'app_private.reverse_gift(bigint, text)', 'execute'), 'authenticated cannot reverse gifts');
select ok(has_function_privilege('authenticated', 'app_public.send_gift(uuid, uuid, integer, text)', 'execute'), 'authenticated may send gifts');
select ok(not has_function_privilege('anon', 'app_public.send_gift(uuid, uuid, integer, text)', 'execute'), 'anon may not send gifts');
select ok(has_function_privilege('anon', 'app_public.leaderboard(text, integer)', 'execute'), 'anon may read the leaderboard');
select ok(not has_table_privilege('authenticated', 'app_public.gifts', 'insert'), 'authenticated cannot add to the catalogue');
select ok(not has_table_privilege('authenticated', 'app_public.gifts', 'update'), 'authenticated cannot reprice gifts');
select ok(not has_table_privilege('authenticated', 'app_public.broadcaster_stats', 'update'), 'authenticated cannot edit stats');
select ok(not has_table_privilege('authenticated', 'app_public.gift_batch_logs', 'insert'), 'authenticated cannot write batch logs');

-- Trying anyway, as a signed-in user.
select tests.create_user('schema_viewer');
select tests.act_as((select id from app_public.users where username = 'schema_viewer'));
select throws_ok($$ update app_private.wallets set balance = 1000000 $$, '42501', null, 'updating wallets as authenticated: permission denied');
select throws_ok($$ select app_private.process_gift_ledger_batch() $$, '42501', null, 'running settlement as authenticated: permission denied');
select is((select count(*)::int from app_public.gift_batch_logs), 0, 'a viewer sees no batch logs (admins only)');
select tests.act_as_owner();

-- Append-only ledgers, even for the owner.
select tests.create_user('schema_caster', 'broadcaster');
insert into app_public.streams (broadcaster_id, title) select id, 'schema show' from app_public.users where username = 'schema_caster';
insert into app_public.gifts (slug, name, coin_price, art_url) values ('schema-rose', 'Rose', 5, '/gifts/rose.svg');
select app_private.issue_coins((select id from app_public.users where username = 'schema_viewer'), 100, 'grant', 'schema-test');
insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins)
select v.id, c.id, s.id, g.id, 2, 5, 10, 2
  from app_public.users v, app_public.users c, app_public.streams s, app_public.gifts g
 where v.username = 'schema_viewer' and c.username = 'schema_caster' and s.broadcaster_id = c.id and g.slug = 'schema-rose';
update app_private.wallets set balance = balance - 10 where user_id = (select id from app_public.users where username = 'schema_viewer');

select throws_ok($$ update app_private.gift_ledger set coins = 1, unit_price = 1, quantity = 1, fee_coins = 0 $$, 'DENYD', null, 'ledger amounts cannot be edited');
select throws_ok($$ update app_private.gift_ledger set receiver_id = sender_id $$, 'DENYD', null, 'ledger receiver cannot be edited');
select throws_ok($$ delete from app_private.gift_ledger $$, 'DENYD', null, 'ledger rows cannot be deleted');
select throws_ok($$ truncate app_private.gift_ledger cascade $$, 'DENYD', null, 'the ledger cannot be truncated');
select is((select count(*)::int from app_private.gift_settlement_queue), 1, 'appending to the ledger queues the gift for settlement (trigger)');
select throws_ok($$ update app_private.gift_ledger set idempotency_key = 'later' $$, 'DENYD', null, 'no column of a pending gift can change');
select lives_ok($$ select app_private.process_gift_ledger_batch() $$, 'settlement does not need to edit the ledger');
select is((select count(*)::int from app_private.gift_ledger_status where status = 'settled'), 1, 'the gift is settled (recorded in gift_batch_items)');
select throws_ok($$ update app_private.gift_ledger set created_at = created_at $$, 'DENYD', null, 'no column of a settled gift can change');
select throws_ok($$ update app_private.gift_batch_items set outcome = 'failed' $$, 'DENYD', null, 'a batch''s outcome cannot be edited');
select throws_ok($$ delete from app_private.gift_batch_items $$, 'DENYD', null, 'a batch''s outcome cannot be deleted');
select throws_ok($$ update app_private.coin_transactions set amount = amount + 1 $$, 'DENYD', null, 'coin transactions cannot be edited');
select throws_ok($$ delete from app_private.coin_transactions $$, 'DENYD', null, 'coin transactions cannot be deleted');
select throws_ok($$ update app_private.wallets set balance = -1 $$, '23514', null, 'a wallet can never be negative (check constraint)');
select is((select count(*)::int from app_private.gift_audit()), 0, 'audit is clean');

select * from finish();
rollback;
