-- send_chat_messages: the batch (group-commit) form of send_chat_message. Who may call it, one outcome
-- per request in a mixed batch, the token bucket and slow mode running through a batch, mutes and
-- bans, the same messages as send_chat_message, one outbox event per message, no durable commit.
begin;
select plan(24);

select tests.create_user('cb_host', 'broadcaster');
select tests.create_user('cb_host2', 'broadcaster');
select tests.create_user('cb_alice');
select tests.create_user('cb_bob');
select tests.create_user('cb_carol');
select tests.create_user('cb_mia', 'moderator');
select tests.create_user('cb_banned');
update app_public.users set is_banned = true where username = 'cb_banned';
select tests.act_as((select id from app_public.users where username = 'cb_host'));
select app_public.go_live('cb show');
select tests.act_as((select id from app_public.users where username = 'cb_host2'));
select app_public.go_live('cb slow show');
select app_public.set_slow_mode((select id from app_public.streams where title = 'cb slow show'), 30);
select tests.act_as_owner();
insert into app_public.stream_mutes (stream_id, user_id)
  select s.id, u.id from app_public.streams s, app_public.users u where s.title = 'cb show' and u.username = 'cb_bob';
create table tests.t as
  select (select id from app_public.streams where title = 'cb show') as s1,
         (select id from app_public.streams where title = 'cb slow show') as s2,
         (select id from app_public.users where username = 'cb_alice') as alice,
         (select id from app_public.users where username = 'cb_bob') as bob,
         (select id from app_public.users where username = 'cb_carol') as carol,
         (select id from app_public.users where username = 'cb_mia') as mia,
         (select id from app_public.users where username = 'cb_banned') as banned,
         (select id from app_public.users where username = 'cb_host') as host;
grant select on t to public;

select ok(not has_function_privilege('anon', 'app_private.send_chat_messages(jsonb)', 'execute'), 'anon cannot execute send_chat_messages');
select ok(not has_function_privilege('authenticated', 'app_private.send_chat_messages(jsonb)', 'execute'), 'authenticated cannot');
select ok(not exists (select 1 from pg_proc p, aclexplode(p.proacl) a where p.oid = 'app_private.send_chat_messages(jsonb)'::regprocedure and a.grantee = 0),
  'PUBLIC cannot');
select ok(has_function_privilege('trollcity_server', 'app_private.send_chat_messages(jsonb)', 'execute'), 'trollcity_server can');

create function tests.msg(sender uuid, stream uuid, body text, client text default null) returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('sender_id', sender, 'stream_id', stream, 'body', body, 'client_id', client)) $$;
create table tests.reqs as select jsonb_build_array(
  tests.msg(alice, s1, '  one  ', 'c-1'),   -- 1..5: Alice's burst of 5
  tests.msg(alice, s1, 'two'),
  tests.msg(bob, s1, 'muted?'),             -- 3 MUTED
  tests.msg(alice, s1, 'three'),
  tests.msg(alice, s1, 'four'),
  tests.msg(alice, s1, 'five'),
  tests.msg(alice, s1, 'six'),              -- 7 RATEL: the bucket is empty
  tests.msg(carol, s1, ''),                 -- 8 BADIN
  tests.msg(carol, s1, E'bad\u200Bbody'),   -- 9 BADIN control characters
  tests.msg(banned, s1, 'hi'),              -- 10 BANND
  tests.msg(null, s1, 'hi'),                -- 11 NOAUT
  tests.msg(carol, gen_random_uuid(), 'hi'),-- 12 NOFND
  tests.msg(carol, s2, 'slow 1'),           -- 13 accepted in slow mode
  tests.msg(carol, s2, 'slow 2'),           -- 14 RATEL: slow mode
  tests.msg(mia, s2, 'mod 1'),              -- 15, 16: moderators are exempt
  tests.msg(mia, s2, 'mod 2'),
  tests.msg(carol, s1, 'carol in s1', repeat('c', 65)) -- 17 BADIN client_id
) as j from t;
grant select on reqs to public;

-- The same messages through send_chat_message, one after another, each as its sender: what the batch
-- must reproduce (run in a savepoint and rolled back; outcomes kept in a psql variable).
create function tests.sequential(reqs jsonb) returns table (ord int, code text, message text, body text, client_id text)
  language plpgsql as $$
declare
  e jsonb;
  i int := 0;
  m app_public.chat_message;
begin
  for e in select x from jsonb_array_elements(reqs) x loop
    i := i + 1;
    begin
      perform tests.act_as((e ->> 'sender_id')::uuid);
      m := app_public.send_chat_message((e ->> 'stream_id')::uuid, e ->> 'body', e ->> 'client_id');
      perform tests.act_as_owner();
      return query select i, null::text, null::text, m.body, m.client_id;
    exception when others then
      perform tests.act_as_owner();
      return query select i, sqlstate, sqlerrm, null::text, null::text;
    end;
  end loop;
end $$;
savepoint before_sequential;
select jsonb_agg(to_jsonb(s) order by s.ord) as sequential from tests.sequential((select j from reqs)) s \gset
rollback to savepoint before_sequential;

set local role trollcity_server;
create table tests.b1 as select * from app_private.send_chat_messages((select j from reqs));
reset role;
select is((select jsonb_agg(jsonb_build_object('ord', ord, 'code', error_code, 'message', error_message, 'body', body, 'client_id', client_id) order by ord) from b1),
          (select jsonb_agg(jsonb_build_object('ord', (x ->> 'ord')::int, 'code', x ->> 'code', 'message', x ->> 'message',
                                               'body', x ->> 'body', 'client_id', x ->> 'client_id') order by (x ->> 'ord')::int)
             from jsonb_array_elements(:'sequential'::jsonb) x),
          'the batch decides every message exactly as send_chat_message called once per message, in order (codes and messages)');

select is((select count(*)::int from b1), 17, 'one outcome per request');
select is((select array_agg(coalesce(error_code, 'ok') order by ord) from b1),
  array['ok', 'ok', 'MUTED', 'ok', 'ok', 'ok', 'RATEL', 'BADIN', 'BADIN', 'BANND', 'NOAUT', 'NOFND', 'ok', 'RATEL', 'ok', 'ok', 'BADIN'],
  'each request has its own outcome');
select is((select (body, client_id, sender ->> 'username') from b1 where ord = 1), ('one'::text, 'c-1'::text, 'cb_alice'::text), 'body trimmed, client id echoed, sender');
select is((select error_message from b1 where ord = 7), 'chat rate limit for user cb_alice: retry after 1.0 seconds', 'send_chat_message''s RATEL message');
select is((select retry_after from b1 where ord = 7), 1.0, 'with retry_after');
select is((select (error_message, retry_after) from b1 where ord = 14),
  (format('slow mode in stream %s: retry after 30.0 seconds', (select s2 from t)), 30.0), 'slow mode within the batch');
select is((select error_message from b1 where ord = 3), format('user cb_bob is muted in stream %s', (select s1 from t)), 'MUTED message');
select is((select sender ->> 'badge' from b1 where ord = 15), 'moderator', 'badge in the sender');
select is((select count(*)::int from app_private.chat_messages), 8, 'one row per accepted message');
select is((select array_agg(payload ->> 'body' order by id) from app_private.stream_events where kind = 'chat'),
  array['one', 'two', 'three', 'four', 'five', 'slow 1', 'mod 1', 'mod 2'], 'one event per accepted message, in request order');
select is((select array_agg((payload ->> 'message_id')::bigint order by id) from app_private.stream_events where kind = 'chat'),
  (select array_agg(message_id order by ord) from b1 where error_code is null), 'events name their messages');
select ok((select bool_and(created_at is not null) = true from b1 where error_code is null), 'accepted messages have a time');

-- State carried to the next request, in the batch or not.
select tests.act_as((select alice from t));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select s1 from t), 'seven'), 'RATEL', null,
  'the bucket the batch emptied applies to send_chat_message');
select tests.act_as((select carol from t));
select throws_like(format('select app_public.send_chat_message(%L, %L)', (select s2 from t), 'slow 3'),
  'slow mode in stream %: retry after 30.0 seconds', 'and so does the slow-mode clock');
select tests.act_as_owner();
create table tests.reqs2 as select jsonb_build_array(tests.msg(alice, s1, 'again'), tests.msg(bob, s2, 'bob in slow')) as j from t;
grant select on reqs2 to public;
set local role trollcity_server;
create table tests.b2 as select * from app_private.send_chat_messages((select j from reqs2));
reset role;
select is((select array_agg(coalesce(error_code, 'ok') order by ord) from b2), array['RATEL', 'ok'], 'a later batch sees the bucket; muted in s1 only');

-- A refused message consumed nothing: of Carol's seven requests only 'slow 1' spent a token.
select is((select tokens from app_private.chat_rate_buckets where user_id = (select carol from t)), 4::real,
  'Carol spent one token; her refused messages spent none');

-- The batch commits without waiting for a WAL flush, and writes no WAL-logged row.
select is(current_setting('synchronous_commit'), 'off', 'synchronous_commit is off for the batch''s transaction');

set local role trollcity_server;
select throws_ok('select * from app_private.send_chat_messages(''"x"'')', 'BADIN', null, 'not an array: BADIN');
reset role;
select tests.act_as((select alice from t));
select throws_ok('select * from app_private.send_chat_messages(''[]'')', '42501', null, 'a signed-in user calling it directly: 42501');
select tests.act_as_owner();

select * from finish();
rollback;
