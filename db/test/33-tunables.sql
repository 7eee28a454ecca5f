-- Operator tunables in app_private.settings (db/README.md, "Settings"): the defaults are rows, and a
-- changed row changes the rule on the next call; a missing row falls back to the default.
begin;
select plan(12);

select is((select value from app_private.settings where key = 'chat_rate_per_second'), '1.0', 'chat rate default row');
select is((select value from app_private.settings where key = 'chat_burst'), '5', 'chat burst default row');
select is((select value from app_private.settings where key = 'chat_max_length'), '500', 'chat length default row');

select tests.create_user('host', 'broadcaster');
select tests.create_user('alice');
select tests.act_as((select id from app_public.users where username = 'host'));
create table tests.t_stream as select (app_public.go_live('Tunables')).id;
grant select on t_stream to public;
create function tests.s() returns uuid language sql as 'select id from t_stream';

-- Message length.
select tests.act_as_owner();
update app_private.settings set value = '10' where key = 'chat_max_length';
select tests.act_as((select id from app_public.users where username = 'alice'));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), repeat('x', 11)), 'BADIN',
  'chat message must be 1-10 characters', 'chat_max_length applies');
select lives_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), repeat('x', 10)), 'a message at the limit is accepted');

-- Burst: a bucket of 2 lets the second message through (the first spent a token above) and refuses the third.
select tests.act_as_owner();
delete from app_private.chat_rate_buckets;
update app_private.settings set value = '2' where key = 'chat_burst';
update app_private.settings set value = '0.001' where key = 'chat_rate_per_second';
select tests.act_as((select id from app_public.users where username = 'alice'));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), 'one'), 'first of a burst of 2');
select lives_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), 'two'), 'second of a burst of 2');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), 'three'), 'RATEL', null, 'chat_burst applies');

-- Missing rows: the defaults.
select tests.act_as_owner();
delete from app_private.settings where key in ('chat_max_length', 'chat_burst', 'chat_rate_per_second');
delete from app_private.chat_rate_buckets;
select tests.act_as((select id from app_public.users where username = 'alice'));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', tests.s(), repeat('y', 500)), 'no row: 500 characters allowed');

-- Slow-mode and seat-cap bounds.
select tests.act_as_owner();
update app_private.settings set value = '60' where key = 'chat_slow_mode_max_seconds';
update app_private.settings set value = '3' where key = 'stage_max_seats';
select tests.act_as((select id from app_public.users where username = 'host'));
select throws_ok(format('select app_public.set_slow_mode(%L, 61)', tests.s()), 'BADIN', 'slow mode must be 0 (off) to 60 seconds',
  'chat_slow_mode_max_seconds applies');
select throws_ok(format('select app_public.set_seat_cap(%L, 4)', tests.s()), 'BADIN', 'seat_cap must be between 0 and 3, got 4',
  'stage_max_seats applies');

-- Invitation lifetime.
select tests.act_as_owner();
update app_private.settings set value = '30' where key = 'stage_invitation_seconds';
update app_private.settings set value = '12' where key = 'stage_max_seats';
select tests.create_user('guest');
select tests.act_as((select id from app_public.users where username = 'host'));
select is((select round(extract(epoch from s.expires_at - now()))::int
             from app_public.invite_to_seat(tests.s(), (select id from app_public.users where username = 'guest')) s),
  30, 'stage_invitation_seconds applies');

select * from finish();
rollback;
