-- Playback from outside (issue 15, findings 5 and 6): an origin path belongs to its own stream, and
-- anonymous failure reports are bounded and pruned.
begin;
select plan(11);

select app_private.configure_playback('https://origin.example.com', 'https://tc.b-cdn.net', null, '/live/{stream_id}/index.m3u8');
select tests.create_user('ph_caster', 'broadcaster');
select tests.create_user('ph_other', 'broadcaster');
select tests.act_as((select id from app_public.users where username = 'ph_other'));
create table tests.other as select (app_public.go_live('their show')).id;
grant select on other to public;
select tests.act_as((select id from app_public.users where username = 'ph_caster'));
create table tests.mine as select (app_public.go_live('my show')).id;
grant select on mine to public;

-- Origin paths are bound to the stream.
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin', null, %L) $$,
  (select id from mine), '/live/' || (select id from other) || '/index.m3u8'), 'BADIN', null,
  'a broadcaster cannot point their stream at another stream''s playlist');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'cdn', null, '/live/index.m3u8') $$, (select id from mine)),
  'BADIN', null, 'a path without the stream''s id: BADIN');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin', null, %L) $$,
  (select id from mine), '/live/' || (select id from mine) || '/../' || (select id from other) || '/index.m3u8'), 'BADIN', null,
  'no dot segments (they would leave the stream''s folder)');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin', null, %L) $$,
  (select id from mine), '//' || (select id from mine) || '/x.m3u8'), 'BADIN', null, 'no empty segments');
select is((app_public.configure_stream_playback((select id from mine), 'origin', null, '/live/' || (select id from mine) || '/master.m3u8')).hls_url,
  'https://origin.example.com/live/' || (select id from mine) || '/master.m3u8', 'the stream''s own folder is fine');
select is((app_public.configure_stream_playback((select id from mine), 'cdn', null, '/hls/' || (select id from mine) || '.m3u8')).hls_url,
  'https://tc.b-cdn.net/hls/' || (select id from mine) || '.m3u8', 'and so is <id>.m3u8');

-- Failure reports: anonymous callers may report, but a flood keeps at most 60 per stream per minute.
select tests.act_as_anon();
select is(app_public.report_playback_failure((select id from mine), 'hls', 'https://x/y.m3u8', 'fragLoadError'), true, 'a report is kept');
select is((select count(*) filter (where r) from (select app_public.report_playback_failure((select id from mine), 'stage', null, 'flood') r
  from generate_series(1, 200)) x)::int, 59, 'of 200 more reports in a minute, 59 are kept (60 in all)');
select tests.act_as_owner();
select is((select count(*)::int from app_private.playback_failure_reports where stream_id = (select id from mine)), 60,
  'the table holds 60 reports for the stream, not 201');
update app_private.playback_failure_reports set reported_at = now() - interval '11 minutes' where stream_id = (select id from mine);
select tests.act_as_anon();
select is(app_public.report_playback_failure((select id from mine), 'hls', null, 'later'), true, 'reports are accepted again later');
select tests.act_as_owner();
select is((select count(*)::int from app_private.playback_failure_reports where stream_id = (select id from mine)), 1,
  'and reports older than 10 minutes are pruned');

select * from finish();
rollback;
