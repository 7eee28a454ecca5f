-- Stage: app roles, RLS on seats, and the LiveKit grant matrix (what each role may and may not do).
begin;
select plan(61);

-- graphile-worker's real schema is in place (the worker installs it at start; the test runner before
-- the tests): jobs are read through its public API, the graphile_worker.jobs view.

-- Schema checks.
select has_table('app_public', 'stream_seats', 'stream_seats exists');
select has_function('app_public', 'livekit_grant', array['uuid'], 'livekit_grant(stream_id) exists');
select ok((select relrowsecurity and relforcerowsecurity from pg_class where oid = 'app_public.stream_seats'::regclass), 'stream_seats: RLS enabled and forced');
select ok(not has_table_privilege('authenticated', 'app_public.stream_seats', 'insert'), 'authenticated cannot insert seats directly');
select ok(not has_table_privilege('authenticated', 'app_public.stream_seats', 'update'), 'authenticated cannot update seats directly');
select ok(not has_table_privilege('authenticated', 'app_public.stream_seats', 'delete'), 'authenticated cannot delete seats');
select ok(not has_column_privilege('authenticated', 'app_public.streams', 'seat_cap', 'update'), 'authenticated cannot set seat_cap directly');
select ok(not has_function_privilege('authenticated', 'app_private.livekit_grant_for(uuid, uuid)', 'execute'), 'authenticated cannot compute grants for others');
select ok(not has_function_privilege('anon', 'app_public.invite_to_seat(uuid, uuid, integer, integer)', 'execute'), 'anon cannot invite');
select ok(not has_function_privilege('anon', 'app_public.set_user_role(uuid, app_public.app_role)', 'execute'), 'anon cannot change roles');
select ok(has_function_privilege('authenticated', 'app_public.livekit_grant(uuid)', 'execute'), 'authenticated may ask for its grant');

-- Cast.
select tests.create_user('caster', 'broadcaster');
select tests.create_user('caster2', 'broadcaster');
select tests.create_user('guest');
select tests.create_user('viewer1');
select tests.create_user('mod', 'moderator');
select tests.create_user('boss', 'admin');
select tests.create_user('boss2', 'admin');
select tests.create_user('outcast');
create table tests.ids as select username, id from app_public.users;
grant select on ids to public;
create function tests.uid(name text) returns uuid language sql as $$ select id from ids where username = name $$;
grant execute on function tests.uid(text) to public;

select tests.act_as(tests.uid('caster'));
create table tests.s1 as select (app_public.go_live('show one')).id;
grant select on s1 to public;
select tests.act_as(tests.uid('caster2'));
create table tests.s2 as select (app_public.go_live('show two')).id;
grant select on s2 to public;
select tests.act_as_owner();
create function tests.s1() returns uuid language sql as $$ select id from s1 $$;
create function tests.s2() returns uuid language sql as $$ select id from s2 $$;
create function tests.grant_of(name text, stream uuid) returns text language sql security definer as $$
  select format('%s/%s/%s/%s', g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin)
    from app_private.livekit_grant_for(stream, tests.uid(name)) g $$;
grant execute on all functions in schema tests to public;

-- Role management: only admins, never their own role.
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.set_user_role(%L, %L)', tests.uid('viewer1'), 'admin'), 'DENYD', null, 'a viewer cannot promote themselves');
select throws_ok($$ update app_public.users set role = 'admin' $$, '42501', null, 'a viewer cannot write the role column');
select tests.act_as(tests.uid('mod'));
select throws_ok(format('select app_public.set_user_role(%L, %L)', tests.uid('viewer1'), 'moderator'), 'DENYD', null, 'a moderator cannot change roles');
select tests.act_as(tests.uid('caster'));
select throws_ok(format('select app_public.set_user_role(%L, %L)', tests.uid('viewer1'), 'broadcaster'), 'DENYD', null, 'a broadcaster cannot change roles');
select tests.act_as(tests.uid('boss'));
select is((app_public.set_user_role(tests.uid('outcast'), 'broadcaster')).role, 'broadcaster'::app_public.app_role, 'an admin changes a role');
select throws_ok(format('select app_public.set_user_role(%L, %L)', tests.uid('boss'), 'viewer'), 'DENYD', null, 'an admin cannot change their own role');
select throws_ok(format('select app_public.set_user_role(%L, %L)', gen_random_uuid(), 'viewer'), 'NOFND', null, 'unknown user: NOFND');
select tests.act_as_anon();
select throws_ok(format('select app_public.set_user_role(%L, %L)', tests.uid('viewer1'), 'admin'), '42501', null, 'anonymous may not even call set_user_role');

-- Grant matrix. Viewer: subscribe only, explicitly no publish and no data.
select tests.act_as(tests.uid('viewer1'));
select is(
  (select row(g.room, g.identity, g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin, g.ttl_seconds)::text from app_public.livekit_grant(tests.s1()) g),
  row(tests.s1()::text, tests.uid('viewer1')::text, false, true, false, false, 3600)::text,
  'viewer: room = stream id, identity = own id, subscribe only, an hour');
select tests.act_as(tests.uid('caster'));
select is((select row(g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin, g.ttl_seconds)::text from app_public.livekit_grant(tests.s1()) g),
  row(true, true, true, false, 300)::text, 'broadcaster in own room: publish, data, 5-minute token');
select is((select g.identity from app_public.livekit_grant(tests.s1()) g), tests.uid('caster')::text, 'identity is always the caller');
select is((select g.can_publish from app_public.livekit_grant(tests.s2()) g), false, 'broadcaster in someone else''s room: no publish');
select tests.act_as(tests.uid('mod'));
select is((select row(g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin)::text from app_public.livekit_grant(tests.s1()) g),
  row(false, true, false, false)::text, 'moderator: subscribe only');
select tests.act_as(tests.uid('boss'));
select is((select row(g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin)::text from app_public.livekit_grant(tests.s1()) g),
  row(false, true, false, true)::text, 'admin: administers, does not publish');
select tests.act_as_anon();
select is((select row(g.can_publish, g.can_subscribe, g.can_publish_data, g.room_admin, g.ttl_seconds <= 300, g.identity ~ '^anon-[0-9a-f]{20}$')::text
             from app_public.livekit_grant(tests.s1()) g),
  row(false, true, false, false, true, true)::text, 'anonymous: subscribe only, short token, identity anon-<random>');
select isnt((app_public.livekit_grant(tests.s1())).identity, (app_public.livekit_grant(tests.s1())).identity, 'anonymous: a new identity every time');
select set_config('request.client_addr', '203.0.113.7', true);
select lives_ok(format('select app_public.livekit_grant(%L) from generate_series(1, 20)', tests.s1()), 'anonymous: 20 tokens per address');
select throws_ok(format('select app_public.livekit_grant(%L)', tests.s1()), 'RATEL', null, 'anonymous: then rate limited (RATEL)');
select set_config('request.client_addr', '203.0.113.8', true);
select lives_ok(format('select app_public.livekit_grant(%L)', tests.s1()), 'anonymous: another address has its own bucket');
select set_config('request.client_addr', '', true);
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.livekit_grant(%L)', gen_random_uuid()), 'NOFND', null, 'unknown stream: NOFND');

-- Seat holder publishes in that room only, and the token never outlives the seat.
select tests.act_as(tests.uid('caster'));
create table tests.seat1 as select (app_public.invite_to_seat(tests.s1(), tests.uid('guest'), null, 60)).id;
grant select on seat1 to public;
select tests.act_as(tests.uid('guest'));
select is(tests.grant_of('guest', tests.s1()), 'f/t/f/f', 'invited (not accepted): still a viewer');
select is((app_public.accept_seat((select id from seat1))).status, 'active', 'guest accepts');
select is((select row(g.can_publish, g.can_subscribe, g.can_publish_data)::text from app_public.livekit_grant(tests.s1()) g),
  row(true, true, true)::text, 'seat holder: publish and data');
select ok((select g.ttl_seconds between 55 and 60 from app_public.livekit_grant(tests.s1()) g), 'seat holder token ends with the seat (60 s)');
select is((select g.can_publish from app_public.livekit_grant(tests.s2()) g), false, 'seat holder in another room: no publish');

-- Expired seat: no publish even before the worker has marked it.
select tests.act_as_owner();
update app_public.stream_seats set expires_at = now() - interval '1 second' where id = (select id from seat1);
select is(tests.grant_of('guest', tests.s1()), 'f/t/f/f', 'expired seat (not yet swept): viewer grant');
select is((app_private.expire_seat((select id from seat1))).status, 'expired', 'the worker marks it expired');
select is(tests.grant_of('guest', tests.s1()), 'f/t/f/f', 'expired seat: viewer grant');

-- Revoked seat.
select tests.act_as(tests.uid('caster'));
create table tests.seat2 as select (app_public.invite_to_seat(tests.s1(), tests.uid('guest'))).id;
grant select on seat2 to public;
select tests.act_as(tests.uid('guest'));
select lives_ok(format('select app_public.accept_seat(%L)', (select id from seat2)), 'guest takes a new seat');
select is(tests.grant_of('guest', tests.s1()), 't/t/t/f', 'seat without duration: publish');
select tests.act_as(tests.uid('mod'));
select is((app_public.revoke_seat((select id from seat2), 'spam')).status, 'revoked', 'a moderator revokes');
select is(tests.grant_of('guest', tests.s1()), 'f/t/f/f', 'revoked seat: viewer grant');
select tests.act_as(tests.uid('guest'));
select throws_ok(format('select app_public.accept_seat(%L)', (select id from seat2)), 'NOFND', null, 'a revoked seat cannot be re-accepted');

-- Banned users and ended streams.
select tests.act_as_owner();
update app_public.users set is_banned = true where username = 'outcast';
select tests.act_as(tests.uid('outcast'));
select throws_ok(format('select app_public.livekit_grant(%L)', tests.s1()), 'BANND', null, 'banned: BANND');
select tests.act_as(tests.uid('caster2'));
select lives_ok(format('select app_public.end_stream(%L)', tests.s2()), 'caster2 ends their stream');
select throws_ok(format('select app_public.livekit_grant(%L)', tests.s2()), 'NLIVE', null, 'ended stream: NLIVE, even for its broadcaster');
select tests.act_as(tests.uid('viewer1'));
select throws_ok(format('select app_public.livekit_grant(%L)', tests.s2()), 'NLIVE', null, 'ended stream: NLIVE for viewers');

-- Exhaustive: nobody but the broadcaster and an active seat holder publishes, whatever their role.
select tests.act_as_owner();
select is(
  (select count(*)::int from app_public.users u
    where not u.is_banned and u.id <> tests.uid('caster')
      and (app_private.livekit_grant_for(tests.s1(), u.id)).can_publish),
  0, 'no publisher in stream 1 besides the broadcaster (no open seats)');
select is(
  (select count(*)::int from app_public.users u
    where not u.is_banned and (app_private.livekit_grant_for(tests.s1(), u.id)).can_publish
      <> (app_private.livekit_grant_for(tests.s1(), u.id)).can_publish_data),
  0, 'can_publish_data always equals can_publish');

-- RLS on seats: invitations are seen by the guest and the stage managers only.
select tests.act_as(tests.uid('caster'));
create table tests.seat3 as select (app_public.invite_to_seat(tests.s1(), tests.uid('viewer1'))).id;
grant select on seat3 to public;
select tests.act_as(tests.uid('guest'));
select is((select count(*)::int from app_public.stream_seats where id = (select id from seat3)), 0, 'another user does not see an invitation');
select is((select count(*)::int from app_public.stream_seats where user_id = tests.uid('guest')), 2, 'a guest sees their own past seats');
select throws_ok(format($$ update app_public.stream_seats set status = 'active' where id = %L $$, (select id from seat3)), '42501', null, 'no direct updates');
select throws_ok(format($$ insert into app_public.stream_seats (stream_id, user_id, slot) values (%L, %L, 3) $$, tests.s1(), tests.uid('guest')), '42501', null, 'no direct inserts');
select tests.act_as(tests.uid('viewer1'));
select is((select count(*)::int from app_public.stream_seats where id = (select id from seat3)), 1, 'the invitee sees the invitation');
select is((app_public.accept_seat((select id from seat3))).status, 'active', 'viewer1 accepts');
select tests.act_as_anon();
select is((select count(*)::int from app_public.stream_seats where id = (select id from seat3)), 1, 'an active seat is public');
select is((select count(*)::int from app_public.stream_seats where user_id = tests.uid('guest')), 0, 'past seats are not public');
select tests.act_as(tests.uid('mod'));
select is((select count(*)::int from app_public.stream_seats), 3, 'a moderator sees every seat');

-- Ending the stream ends its seats and takes publish away.
select tests.act_as(tests.uid('caster'));
select lives_ok(format('select app_public.end_stream(%L)', tests.s1()), 'caster ends stream 1');
select tests.act_as_owner();
select is((select status from app_public.stream_seats where id = (select id from seat3)), 'ended', 'open seats end with the stream');

select * from finish();
rollback;
