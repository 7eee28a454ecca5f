-- Stage seats: invite, accept, leave, revoke, expiry, cap and slots; the jobs and events they emit.
begin;
select plan(42);

-- graphile-worker's real schema is in place (the worker installs it at start; the test runner before
-- the tests): jobs are read through its public API, the graphile_worker.jobs view.

select tests.create_user('caster', 'broadcaster');
select tests.create_user('guest1');
select tests.create_user('guest2');
select tests.create_user('guest3');
select tests.create_user('viewer1');
select tests.create_user('mod', 'moderator');
select tests.create_user('outcast');
update app_public.users set is_banned = true where username = 'outcast';
create table tests.ids as select username, id from app_public.users;
grant select on ids to public;
create function tests.uid(name text) returns uuid language sql as $$ select id from ids where username = name $$;
grant execute on function tests.uid(text) to public;
select tests.act_as(tests.uid('caster'));
create table tests.s1 as select (app_public.go_live('stage show')).id;
grant select on s1 to public;
create function tests.s1() returns uuid language sql as $$ select id from s1 $$;
grant execute on function tests.s1() to public;
create table tests.seats (name text, id uuid);
grant select, insert on seats to public;

-- Who may invite.
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('guest1')), 'DENYD', null, 'a viewer cannot invite');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('viewer1')), 'DENYD', null, 'a viewer cannot invite themselves');
select tests.act_as_anon();
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('guest1')), '42501', null, 'anonymous cannot invite');
select tests.act_as(tests.uid('outcast'));
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('guest1')), 'BANND', null, 'a banned user cannot invite');

-- Invitation rules.
select tests.act_as(tests.uid('caster'));
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', gen_random_uuid(), tests.uid('guest1')), 'NOFND', null, 'unknown stream: NOFND');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), gen_random_uuid()), 'NOFND', null, 'unknown user: NOFND');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('outcast')), 'BANND', null, 'a banned user cannot be invited');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('caster')), 'BADIN', null, 'the broadcaster needs no seat');
select throws_ok(format('select app_public.invite_to_seat(%L, %L, 9)', tests.s1(), tests.uid('guest1')), 'BADIN', null, 'slot beyond the cap: BADIN');
select throws_ok(format('select app_public.invite_to_seat(%L, %L, null, 5)', tests.s1(), tests.uid('guest1')), 'BADIN', null, 'duration under 10 s: BADIN');
insert into seats select 'guest1', (app_public.invite_to_seat(tests.s1(), tests.uid('guest1'))).id;
select is((select slot::int from app_public.stream_seats where id = (select id from seats where name = 'guest1')), 1, 'first free slot is 1');
select ok((select expires_at between now() + interval '119 seconds' and now() + interval '121 seconds' from app_public.stream_seats where id = (select id from seats where name = 'guest1')),
  'an invitation expires after 2 minutes');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('guest1')), 'SEATF', null, 'one open seat per user');
select throws_ok(format('select app_public.invite_to_seat(%L, %L, 1)', tests.s1(), tests.uid('guest2')), 'SEATF', null, 'a taken slot: SEATF');
select tests.act_as(tests.uid('mod'));
insert into seats select 'guest2', (app_public.invite_to_seat(tests.s1(), tests.uid('guest2'), 3, 30)).id;
select is((select slot::int from app_public.stream_seats where id = (select id from seats where name = 'guest2')), 3, 'a moderator invites to a chosen slot');
select tests.act_as(tests.uid('caster'));
select throws_ok(format('select app_public.set_seat_cap(%L, 2)', tests.s1()), 'SEATF', null, 'cannot shrink the stage below an open slot');
select is((app_public.set_seat_cap(tests.s1(), 3)).seat_cap::int, 3, 'the broadcaster sizes the stage');
insert into seats select 'guest3', (app_public.invite_to_seat(tests.s1(), tests.uid('guest3'))).id;
select is((select slot::int from app_public.stream_seats where id = (select id from seats where name = 'guest3')), 2, 'the lowest free slot is filled');
select throws_ok(format('select app_public.invite_to_seat(%L, %L)', tests.s1(), tests.uid('viewer1')), 'SEATF', null, 'a full stage: SEATF');
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.set_seat_cap(%L, 5)', tests.s1()), 'DENYD', null, 'a viewer cannot size the stage');

-- Events: every change is a self-contained seat event.
select tests.act_as_owner();
select is(
  (select payload - 'seat' from app_private.stream_events where kind = 'seat' and payload #>> '{seat,id}' = (select id::text from seats where name = 'guest1')),
  jsonb_build_object('action', 'invited', 'user', jsonb_build_object('id', tests.uid('guest1'), 'username', 'guest1', 'display_name', 'guest1', 'avatar_url', null)),
  'invite publishes a seat event carrying the guest''s profile');

-- Accept.
select tests.act_as(tests.uid('guest3'));
select throws_ok(format('select app_public.accept_seat(%L)', (select id from seats where name = 'guest1')), 'DENYD', null, 'cannot accept someone else''s invitation');
select throws_ok(format('select app_public.accept_seat(%L)', gen_random_uuid()), 'NOFND', null, 'unknown seat: NOFND');
select tests.act_as(tests.uid('guest2'));
select is((app_public.accept_seat((select id from seats where name = 'guest2'))).status, 'active', 'g2 accepts a 30-second seat');
select is((app_public.accept_seat((select id from seats where name = 'guest2'))).status, 'active', 'accept is idempotent');
select tests.act_as_owner();
select ok((select expires_at between now() + interval '29 seconds' and now() + interval '31 seconds' from app_public.stream_seats where id = (select id from seats where name = 'guest2')),
  'the seat expires 30 s after acceptance');
select is(
  (select run_at from graphile_worker.jobs where key = 'stream_seats__enforce:expiry:' || (select id from seats where name = 'guest2')),
  (select expires_at - interval '1 second' from app_public.stream_seats where id = (select id from seats where name = 'guest2')),
  'expiry job scheduled a second before expires_at');
select is(
  (select task_identifier || ' ' || (run_at <= now())::text from graphile_worker.jobs where key = 'stream_seats__enforce:' || (select id from seats where name = 'guest2')),
  'stream_seats__enforce true',
  'accepting enqueues enforcement now (grant publish), keyed by seat id');
select is((select payload ->> 'action' from app_private.stream_events where kind = 'seat' order by id desc limit 1), 'accepted', 'accept publishes a seat event');

-- Revoke.
do $$ begin perform graphile_worker.remove_job(key) from graphile_worker.jobs where key is not null; end $$;
select tests.act_as(tests.uid('guest2'));
select throws_ok(format('select app_public.revoke_seat(%L, %L)', (select id from seats where name = 'guest1'), 'no'), 'DENYD', null, 'a guest cannot revoke another seat');
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.revoke_seat(%L, %L)', (select id from seats where name = 'guest2'), 'no'), 'DENYD', null, 'a viewer cannot revoke');
select tests.act_as(tests.uid('caster'));
select throws_ok(format('select app_public.revoke_seat(%L, %L)', (select id from seats where name = 'guest2'), repeat('x', 201)), 'BADIN', null, 'a reason over 200 characters: BADIN');
select is((app_public.revoke_seat((select id from seats where name = 'guest2'), 'off topic')).end_reason, 'off topic', 'the broadcaster revokes, with a reason');
select tests.act_as_owner();
select ok((select run_at <= now() from graphile_worker.jobs where key = 'stream_seats__enforce:' || (select id from seats where name = 'guest2')), 'revoke enqueues enforcement to run now');
select is(
  (select payload #>> '{seat,status}' || '/' || (payload #>> '{seat,end_reason}') from app_private.stream_events where kind = 'seat' and payload ->> 'action' = 'revoked'),
  'revoked/off topic', 'revoke publishes a seat event (the client unmounts)');
select tests.act_as(tests.uid('caster'));
select is((app_public.revoke_seat((select id from seats where name = 'guest2'), 'again')).end_reason, 'off topic', 'revoke is idempotent');

-- Leave / decline.
select tests.act_as(tests.uid('guest1'));
select throws_ok(format('select app_public.leave_seat(%L)', (select id from seats where name = 'guest3')), 'DENYD', null, 'cannot leave someone else''s seat');
select is((app_public.leave_seat((select id from seats where name = 'guest1'))).status, 'left', 'declining an invitation');
select tests.act_as_owner();
select is((select count(*)::int from graphile_worker.jobs where key = 'stream_seats__enforce:' || (select id from seats where name = 'guest1')), 0,
  'declining an invitation needs no LiveKit call');

-- Expired invitations free their slot for the next invitation.
update app_public.stream_seats set expires_at = now() - interval '1 second' where id = (select id from seats where name = 'guest3');
select tests.act_as(tests.uid('caster'));
select is((app_public.invite_to_seat(tests.s1(), tests.uid('viewer1'))).slot::int, 1, 'an overdue invitation is swept before slots are counted');
select is((select status from app_public.stream_seats where id = (select id from seats where name = 'guest3')), 'expired', 'and marked expired');
select tests.act_as(tests.uid('guest3'));
select throws_ok(format('select app_public.accept_seat(%L)', (select id from seats where name = 'guest3')), 'NOFND', null, 'an expired invitation cannot be accepted');

select * from finish();
rollback;
