-- Playback: privileges, HLS URL derivation per provider, configuring a stream's HLS source.
begin;
select plan(29);

-- Schema and privileges.
select has_table('app_private', 'stream_playback', 'per-stream playback state lives in app_private');
select has_function('app_public', 'streams_hls_url', array['app_public.streams'], 'the one HLS URL derivation');
select ok(has_function_privilege('anon', 'app_public.streams_hls_url(app_public.streams)', 'execute'), 'anon may read the HLS URL');
select ok(has_function_privilege('anon', 'app_public.streams_playback(app_public.streams)', 'execute'), 'anon may read the playback state');
select ok(has_function_privilege('anon', 'app_public.report_playback_failure(uuid, text, text, text)', 'execute'), 'anon players may report failures');
select ok(not has_function_privilege('anon', 'app_public.request_viral_mode(uuid, text)', 'execute'), 'anon cannot request viral mode');
select ok(not has_function_privilege('authenticated', 'app_private.record_hls_check(uuid, text, boolean, text, jsonb)', 'execute'),
  'request roles cannot record health checks');
select ok(not has_function_privilege('authenticated', 'app_private.configure_playback(text, text, text, text, integer, integer)', 'execute'),
  'request roles cannot change playback settings');

-- Fixtures: settings as a server would set them at start.
select app_private.configure_playback('https://origin.example.com', 'https://tc.b-cdn.net', null, '/live/{stream_id}/index.m3u8');
select tests.create_user('caster', 'broadcaster');
select tests.create_user('caster2', 'broadcaster');
select tests.create_user('viewer1');
select tests.create_user('boss', 'admin');
select tests.act_as((select id from app_public.users where username = 'caster'));
create table tests.s1 as select (app_public.go_live('show one')).id;
grant select on s1 to public;

-- No HLS source yet: the stage only.
select is(app_public.streams_hls_url(s), null, 'no HLS source: no URL') from app_public.streams s where id = (select id from s1);
select is((app_public.streams_playback(s)).provider, 'livekit', 'no HLS source: provider livekit (the stage)')
  from app_public.streams s where id = (select id from s1);
select is((app_public.streams_playback(s)).latency_mode, 'low', 'stage: low latency') from app_public.streams s where id = (select id from s1);

-- Mux.
select is((app_public.configure_stream_playback((select id from s1), 'mux', 'AbC123xyz')).hls_url,
  'https://stream.mux.com/AbC123xyz.m3u8', 'mux: stream.mux.com/<playback id>.m3u8');
select is((app_public.configure_stream_playback((select id from s1), 'mux', 'AbC123xyz')).mode, 'stage',
  'configuring HLS does not switch anybody');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'mux') $$, (select id from s1)), 'BADIN', null,
  'mux without a playback id: BADIN');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'mux', '../evil') $$, (select id from s1)), 'BADIN', null,
  'mux playback id with odd characters: BADIN');

-- CDN pull zone: its host + the origin path (default from the template, or the stream's own).
select is((app_public.configure_stream_playback((select id from s1), 'cdn')).hls_url,
  'https://tc.b-cdn.net/live/' || (select id from s1) || '/index.m3u8', 'cdn: pull-zone host + default origin path');
select is((app_public.configure_stream_playback((select id from s1), 'cdn', null, '/hls/' || (select id from s1) || '/master.m3u8')).hls_url,
  'https://tc.b-cdn.net/hls/' || (select id from s1) || '/master.m3u8', 'cdn: pull-zone host + the stream''s origin path');

-- Self-hosted origin.
select is((app_public.configure_stream_playback((select id from s1), 'origin', null, '/hls/' || (select id from s1) || '/master.m3u8')).hls_url,
  'https://origin.example.com/hls/' || (select id from s1) || '/master.m3u8', 'origin: origin base + path');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin', null, 'http://elsewhere/x.m3u8') $$, (select id from s1)),
  'BADIN', null, 'origin path must be a path: BADIN');
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'youtube') $$, (select id from s1)), 'BADIN', null,
  'unknown provider: BADIN');

-- The same function serves every reader: the computed column, the playback state, the worker target.
select is((app_public.streams_playback(s)).hls_url, app_public.streams_hls_url(s), 'playback state uses streams_hls_url')
  from app_public.streams s where id = (select id from s1);

-- A provider the server has not configured yields no URL (never a half-built one).
select tests.act_as_owner();
select app_private.configure_playback('https://origin.example.com', null);
select tests.act_as((select id from app_public.users where username = 'caster'));
select is((app_public.configure_stream_playback((select id from s1), 'cdn')).hls_url, null, 'cdn not configured: no URL');
select throws_ok(format($$ select app_public.request_viral_mode(%L, 'hls') $$, (select id from s1)), 'BADIN', null,
  'viral mode without a usable HLS URL: BADIN');
select tests.act_as_owner();
select throws_ok($$ select app_private.configure_playback('not a url', null) $$, 'BADIN', null, 'bad origin URL: BADIN');
select app_private.configure_playback('https://origin.example.com/', 'https://tc.b-cdn.net/');
select tests.act_as((select id from app_public.users where username = 'caster'));
select is((app_public.configure_stream_playback((select id from s1), 'cdn', null, '/a/' || (select id from s1) || '.m3u8')).hls_url,
  'https://tc.b-cdn.net/a/' || (select id from s1) || '.m3u8', 'trailing slashes in base URLs are trimmed');

-- Who may configure.
select tests.act_as((select id from app_public.users where username = 'caster2'));
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin') $$, (select id from s1)), 'DENYD', null,
  'another broadcaster cannot configure the stream');
select tests.act_as((select id from app_public.users where username = 'boss'));
select is((app_public.configure_stream_playback((select id from s1), 'origin', null, '/b/' || (select id from s1) || '.m3u8')).hls_url,
  'https://origin.example.com/b/' || (select id from s1) || '.m3u8', 'an admin may configure any stream');
select tests.act_as_anon();
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'origin') $$, (select id from s1)), '42501', null,
  'anonymous cannot even call configure_stream_playback');
select tests.act_as((select id from app_public.users where username = 'viewer1'));
select throws_ok(format($$ select app_public.configure_stream_playback(%L, 'cdn') $$, gen_random_uuid()), 'NOFND', null,
  'unknown stream: NOFND');

select * from finish();
rollback;
