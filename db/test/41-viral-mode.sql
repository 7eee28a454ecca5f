-- Viral mode: thresholds (with hysteresis), requests, the worker's checks, retries with backoff,
-- stream_state events, alerts for admins, players' failure reports.
begin;
select plan(63);

select app_private.configure_playback('https://origin.example.com', 'https://tc.b-cdn.net', null, null, 100, 50);
update app_private.playback_settings set retry_base_seconds = 10, retry_max_seconds = 40, verify_after_failures = 3;
select tests.create_user('caster', 'broadcaster');
select tests.create_user('viewer1');
select tests.create_user('boss', 'admin');
select tests.act_as((select id from app_public.users where username = 'caster'));
create table tests.s1 as select (app_public.go_live('going viral')).id;
grant select on s1 to public;
select app_public.configure_stream_playback((select id from s1), 'origin', null, '/live/' || (select id from s1) || '/index.m3u8');
select tests.act_as_owner();

create function tests.st() returns app_private.stream_playback language sql as
  $$ select * from app_private.stream_playback where stream_id = (select id from s1) $$;
create function tests.events() returns bigint language sql as
  $$ select count(*) from app_private.stream_events where stream_id = (select id from s1) and kind = 'stream_state' $$;
create function tests.url() returns text language sql as $$ select 'https://origin.example.com/live/' || (select id from s1) || '/index.m3u8' $$;

-- Thresholds: nothing below the enter threshold, a to_hls request at it.
select is(app_private.apply_viewer_count((select id from s1), 99), null, '99 viewers: below the threshold');
select is(app_private.apply_viewer_count((select id from s1), 100), 'to_hls', '100 viewers: asks to switch to HLS');
select is((tests.st()).mode, 'stage', 'viewers stay on the stage until the check passes');
select is((tests.st()).pending_reason, 'threshold', 'pending because of the threshold');
select is(app_private.apply_viewer_count((select id from s1), 150), null, 'a second crossing does not stack a request');

-- The worker claims due checks (leased) and reads what to check.
select is((select array_agg(pending) from app_private.claim_hls_checks()), array['to_hls'], 'the due check is claimed');
select is((select count(*) from app_private.claim_hls_checks())::int, 0, 'a claimed check is leased, not claimed twice');
select is((select url from app_private.hls_check_target((select id from s1))), tests.url(), 'the worker checks the derived URL');

-- A failed check keeps viewers where they are, records why, alerts and retries with backoff.
select is(app_private.record_hls_check((select id from s1), tests.url(), false, 'playlist: HTTP 404'), 'retry', 'failed check: retry');
select is((tests.st()).mode, 'stage', 'failed check: still on the stage');
select is((tests.st()).last_error, 'playlist: HTTP 404', 'failed check: the reason is recorded');
select is(tests.events(), 0::bigint, 'failed check: no stream_state event');
select ok((tests.st()).check_due_at between now() + interval '9 seconds' and now() + interval '11 seconds', 'first retry after 10 s');
select app_private.record_hls_check((select id from s1), tests.url(), false, 'segment: HTTP 404');
select ok((tests.st()).check_due_at between now() + interval '19 seconds' and now() + interval '21 seconds', 'second retry after 20 s');
select app_private.record_hls_check((select id from s1), tests.url(), false, 'timeout');
select app_private.record_hls_check((select id from s1), tests.url(), false, 'timeout');
select ok((tests.st()).check_due_at between now() + interval '39 seconds' and now() + interval '41 seconds', 'backoff is capped at 40 s');
select is((tests.st()).attempts, 4, 'attempts are counted');
select is((select count(*) from app_private.hls_checks where stream_id = (select id from s1) and not ok)::int, 4, 'every check is in the history');
select is((select streams_check_failing from app_private.playback_metrics()), 1, 'metric: one stream failing its check');
select is((app_public.streams_playback(s)).hls_ready, false, 'players are told HLS is not ready')
  from app_public.streams s where id = (select id from s1);

-- The admin view shows the alert, to admins only.
select tests.act_as((select id from app_public.users where username = 'boss'));
select is((select alerting from app_public.playback_health where stream_id = (select id from s1)), true, 'admin view: alerting');
select is((select last_error from app_public.playback_health where stream_id = (select id from s1)), 'timeout', 'admin view: why');
select tests.act_as((select id from app_public.users where username = 'caster'));
select is((select count(*) from app_public.playback_health where stream_id <> (select id from s1))::int, 0,
  'the broadcaster sees no other stream''s checks');
select is((select alerting from app_public.playback_health where stream_id = (select id from s1)), true,
  'the broadcaster sees their own stream''s checks (the studio)');
select tests.act_as((select id from app_public.users where username = 'viewer1'));
select is((select count(*) from app_public.playback_health)::int, 0, 'a viewer sees no rows');
select tests.act_as_anon();
select throws_ok($$ select * from app_public.playback_health $$, '42501', null, 'anon may not read the admin view');
select tests.act_as_owner();

-- A result for a URL the stream no longer serves never switches it.
select is(app_private.record_hls_check((select id from s1), 'https://elsewhere.example.com/x.m3u8', true, null), 'stale',
  'a passing check of another URL: stale');
select is((tests.st()).mode, 'stage', 'stale result: no switch');

-- A passing check of the current URL switches and tells everyone.
select is(app_private.record_hls_check((select id from s1), tests.url(), true, null), 'switched_to_hls', 'passing check: switch');
select is((tests.st()).mode, 'hls', 'now on HLS');
select is((tests.st()).pending, null, 'nothing pending');
select is(tests.events(), 1::bigint, 'one stream_state event');
select is((select payload - 'switched_at' from app_private.stream_events where stream_id = (select id from s1) and kind = 'stream_state'),
  jsonb_build_object('type', 'playback', 'mode', 'hls', 'provider', 'origin', 'latency_mode', 'standard', 'hls_url', tests.url(), 'reason', 'threshold'),
  'the event carries everything a player needs');
select is((select (p.provider, p.mode, p.latency_mode, p.hls_ready)::text from app_public.streams s, app_public.streams_playback(s) p
  where s.id = (select id from s1)), '(origin,hls,standard,t)', 'playback state: origin, hls, standard latency, ready');
select is((select streams_check_failing from app_private.playback_metrics()), 0, 'metric: the alert clears');
select is(app_private.record_hls_check((select id from s1), tests.url(), true, null), 'stale', 'a late duplicate result is ignored');

-- While on HLS the source cannot change under the viewers.
select tests.act_as((select id from app_public.users where username = 'caster'));
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'cdn') $$, (select id from s1)), 'CONFL', null,
  'changing the HLS source while on HLS: CONFL');
select tests.act_as_owner();

-- Hysteresis and switching back the same way.
select is(app_private.apply_viewer_count((select id from s1), 60), null, '60 viewers: between exit and enter, stay on HLS');
select is(app_private.apply_viewer_count((select id from s1), 49), 'to_stage', '49 viewers: ask to switch back');
select is((tests.st()).mode, 'hls', 'still on HLS until the worker switches');
select is(app_private.apply_viewer_count((select id from s1), 120), null, 'the audience comes back: the switch back is cancelled');
select is((tests.st()).pending, null, 'nothing pending after the cancellation');
select app_private.apply_viewer_count((select id from s1), 10);
select is(app_private.record_hls_check((select id from s1), null, true, null), 'switched_to_stage', 'the worker switches back');
select is((select (p.provider, p.mode, p.latency_mode)::text from app_public.streams s, app_public.streams_playback(s) p
  where s.id = (select id from s1)), '(livekit,stage,low)', 'back on the stage (livekit, low latency)');
select is(tests.events(), 2::bigint, 'the switch back is announced too');

-- Requests by the broadcaster pin the mode; auto hands it back to the thresholds.
select tests.act_as((select id from app_public.users where username = 'viewer1'));
select throws_ok(format($$ select app_public.request_viral_mode(%L, 'hls') $$, (select id from s1)), 'DENYD', null,
  'a viewer cannot request viral mode');
select tests.act_as((select id from app_public.users where username = 'caster'));
select throws_ok(format($$ select app_public.request_viral_mode(%L, 'max') $$, (select id from s1)), 'BADIN', null, 'unknown mode: BADIN');
select is((app_public.request_viral_mode((select id from s1), 'hls')).pending, 'to_hls', 'the broadcaster asks for HLS');
select tests.act_as_owner();
select is(app_private.apply_viewer_count((select id from s1), 0), null, 'a pinned request ignores the thresholds');
select app_private.record_hls_check((select id from s1), tests.url(), true, null);
select is((tests.st()).mode_reason, 'request', 'switched because of the request');
select tests.act_as((select id from app_public.users where username = 'caster'));
select app_public.request_viral_mode((select id from s1), 'auto');
select tests.act_as_owner();
select is(app_private.apply_viewer_count((select id from s1), 0), 'to_stage', 'auto: the thresholds decide again');

-- Players' failure reports are counted; many HLS failures while on HLS trigger a verification.
update app_private.stream_playback set pending = null, pending_reason = null, check_due_at = null where stream_id = (select id from s1);
select tests.act_as_anon();
select throws_ok(format($$ select app_public.report_playback_failure(%L, 'dash') $$, (select id from s1)), 'BADIN', null, 'unknown path: BADIN');
select throws_ok(format($$ select app_public.report_playback_failure(%L, 'hls') $$, gen_random_uuid()), 'NOFND', null, 'unknown stream: NOFND');
select app_public.report_playback_failure((select id from s1), 'hls', 'https://origin.example.com/live/one/index.m3u8', 'manifestLoadError');
select app_public.report_playback_failure((select id from s1), 'hls', 'https://origin.example.com/live/one/index.m3u8', 'levelLoadError');
select tests.act_as_owner();
select is((tests.st()).pending, null, 'two failures: no verification yet');
select tests.act_as_anon();
select app_public.report_playback_failure((select id from s1), 'hls', 'https://origin.example.com/live/one/index.m3u8', 'fragLoadError');
select tests.act_as_owner();
select is(((tests.st()).pending, (tests.st()).pending_reason)::text, '(verify,failures)', 'three failures in a minute: verify the URL');
select is(app_private.record_hls_check((select id from s1), tests.url(), false, 'playlist: HTTP 404'), 'retry', 'verification fails: retry');
select is((tests.st()).mode, 'hls', 'a failed verification does not move viewers (each player falls back on its own)');
select tests.act_as((select id from app_public.users where username = 'boss'));
select is((select (failure_reports, alerting)::text from app_public.playback_health where stream_id = (select id from s1)), '(3,t)',
  'admin view: failures counted per stream, alerting');
select tests.act_as_owner();
select is(app_private.record_hls_check((select id from s1), tests.url(), true, null), 'verified', 'verification passes');

-- Changing the settings re-verifies streams on HLS; an ended stream drops its pending check.
select app_private.configure_playback('https://origin2.example.com', null);
select is((tests.st()).pending, 'verify', 'a settings change re-verifies streams on HLS');
update app_public.streams set status = 'ended', ended_at = now() where id = (select id from s1);
select is((select count(*) from app_private.claim_hls_checks())::int, 0, 'ended stream: nothing to check');

-- The scan reads the realtime feature's app_public.streams_viewer_count (stubbed here, rolled back).
create or replace function app_public.streams_viewer_count(s app_public.streams) returns integer language sql stable
  as $$ select case when s.title = 'second show' then 150 else 0 end $$;
select tests.act_as((select id from app_public.users where username = 'caster'));
create table tests.s2 as select (app_public.go_live('second show')).id;
select app_public.configure_stream_playback((select id from s2), 'origin');
select tests.act_as_owner();
select is(app_private.scan_viral_thresholds(), 1, 'the scan requests HLS for the stream over the threshold');
select is((select pending from app_private.stream_playback where stream_id = (select id from s2)), 'to_hls', 'that stream is pending to_hls');
select is(app_private.scan_viral_thresholds(), 0, 'a second scan requests nothing new');

select * from finish();
rollback;
