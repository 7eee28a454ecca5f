-- Video end to end: rooms opened and closed through jobs, egresses of viral streams (when one is
-- started, what the health check waits for, retries with backoff, stopping on the way back).
begin;
select plan(31);

select app_private.configure_playback('https://origin.example.com', null, null, null, 100, 50);
select tests.create_user('eg_caster', 'broadcaster');
select tests.create_user('eg_caster2', 'broadcaster');
select tests.act_as((select id from app_public.users where username = 'eg_caster'));
create table tests.s1 as select (app_public.go_live('egress show')).id;
grant select on s1 to public;
select tests.act_as_owner();

create function tests.sid() returns uuid language sql as $$ select id from s1 $$;
create function tests.eg() returns app_private.stream_egresses language sql as
  $$ select * from app_private.stream_egresses where stream_id = tests.sid() order by created_at desc limit 1 $$;
create function tests.job(k text) returns graphile_worker.jobs language sql as
  $$ select * from graphile_worker.jobs where key = k $$;
grant execute on function tests.sid() to public;

-- Rooms: going live enqueues the room job; its spec has the stage's limits.
select is((tests.job('streams__livekit_room:' || tests.sid())).task_identifier, 'streams__livekit_room', 'going live enqueues streams__livekit_room');
select is((tests.job('streams__livekit_room:' || tests.sid())).queue_name, 'livekit-room:' || tests.sid(), 'one serial queue per stream');
select is((select row(room, live, empty_timeout, departure_timeout)::text from app_private.livekit_room_spec(tests.sid())),
  row(tests.sid()::text, true, 300, 20)::text, 'room spec: named after the stream, 5 min empty timeout, 20 s departure timeout');
select is((select max_participants from app_private.livekit_room_spec(tests.sid())), 100 + 4 + 1 + 100, 'room spec: viral threshold + seats + broadcaster + headroom');

-- Without an egress target, a stream without an HLS source cannot go viral and starts no egress.
select app_private.configure_egress(null);
insert into app_private.stream_playback (stream_id) values (tests.sid());
select tests.act_as((select id from app_public.users where username = 'eg_caster'));
select throws_ok(format('select app_public.request_viral_mode(%L, %L)', tests.sid(), 'hls'), 'BADIN', null, 'no source, no egress: BADIN');
select tests.act_as_owner();
select throws_ok($$ select app_private.configure_egress('s3') $$, 'BADIN', null, 'egress target must be mux, origin or null');

-- With the origin as the target: going viral starts an egress and the source becomes the origin.
select app_private.configure_egress('origin');
select tests.act_as((select id from app_public.users where username = 'eg_caster'));
select is((app_public.request_viral_mode(tests.sid(), 'hls')).pending, 'to_hls', 'the broadcaster asks for HLS');
select tests.act_as_owner();
select is((tests.eg()).state, 'requested', 'an egress is requested');
select is((tests.eg()).target, 'origin', 'to the origin');
select is((tests.job('stream_egresses__run:' || (tests.eg()).id)).queue_name, 'egress:' || tests.sid(), 'its job is enqueued on the stream''s egress queue');
select is((select hls_provider from app_private.stream_playback where stream_id = tests.sid()), 'origin', 'the stream''s source is the origin');
select is((select app_public.streams_hls_url(s) from app_public.streams s where s.id = tests.sid()),
  'https://origin.example.com/live/' || tests.sid() || '/index.m3u8', 'where the egress writes its live playlist');
select is((select row(action, segment_prefix, live_playlist_name)::text from app_private.egress_job((tests.eg()).id)),
  row('start', 'live/' || tests.sid() || '/seg', 'live/' || tests.sid() || '/index.m3u8')::text, 'the job: start, segments beside the playlist');

-- The health check waits while the egress is not active.
select is((select count(*)::int from app_private.claim_hls_checks() where stream_id = tests.sid()), 0, 'no check while the egress is requested');
select is(app_private.record_egress((tests.eg()).id, 'starting', 'EG_one'), 'starting', 'started');
select is((select action from app_private.egress_job((tests.eg()).id)), 'poll', 'the job waits for it to be active');
select is((select count(*)::int from app_private.claim_hls_checks() where stream_id = tests.sid()), 0, 'no check while the egress is starting');

-- A failure is retried with backoff; the check still waits.
select is(app_private.record_egress((tests.eg()).id, 'failed', 'EG_one', 'pipeline crashed'), 'retrying', 'failed: retrying');
select is(row((tests.eg()).failures, (tests.eg()).last_error)::text, row(1, 'pipeline crashed')::text, 'the failure is recorded');
select ok((tests.eg()).next_attempt_at between now() + interval '4 seconds' and now() + interval '6 seconds', 'first retry after 5 s');
select ok((tests.job('stream_egresses__run:' || (tests.eg()).id)).run_at between now() + interval '4 seconds' and now() + interval '6 seconds',
  'the retry job runs then');
select is((select action from app_private.egress_job((tests.eg()).id)), 'none', 'not before it is due');
select is((select failures from app_private.egress_metrics()), 1, 'metrics count the failure');

-- Active: the check is due at once; only a passing check switches viewers.
update app_private.stream_egresses set next_attempt_at = now() where id = (tests.eg()).id;
select is(app_private.record_egress((tests.eg()).id, 'starting', 'EG_two'), 'starting', 'the retry started');
select is(app_private.record_egress((tests.eg()).id, 'active', 'EG_two'), 'active', 'active');
select is((select array_agg(pending) from app_private.claim_hls_checks() where stream_id = tests.sid()), array['to_hls'], 'now the check is claimed');
select is(app_private.record_hls_check(tests.sid(), 'https://origin.example.com/live/' || tests.sid() || '/index.m3u8', true, null),
  'switched_to_hls', 'a passing check switches');

-- Back to the stage: the egress is asked to stop.
select app_private.request_transition(tests.sid(), 'stage', 'request', null);
select is(app_private.record_hls_check(tests.sid(), null, true, null), 'switched_to_stage', 'back on the stage');
select is(row((tests.eg()).state, (tests.eg()).stop_reason)::text, row('stopping', 'back on the stage')::text, 'the egress is stopping');
select is((select action from app_private.egress_job((tests.eg()).id)), 'stop', 'the job stops it');

-- Ending the stream enqueues the room job again (DeleteRoom).
select tests.act_as((select id from app_public.users where username = 'eg_caster'));
select app_public.end_stream(tests.sid());
select tests.act_as_owner();
select is((select live from app_private.livekit_room_spec(tests.sid())), false, 'ended: the room job deletes the room');

select * from finish();
rollback;
