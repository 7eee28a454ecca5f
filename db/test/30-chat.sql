-- Chat: privileges, validation, sender identity in the event, rate limits, slow mode, no WAL-logged writes.
begin;
select plan(40);

-- Schema: hot-path tables are UNLOGGED, the transcript is durable, request roles reach only functions.
select is((select relpersistence from pg_class where oid = 'app_private.chat_messages'::regclass), 'u', 'chat buffer is UNLOGGED');
select is((select relpersistence from pg_class where oid = 'app_private.chat_rate_buckets'::regclass), 'u', 'rate buckets are UNLOGGED');
select is((select relpersistence from pg_class where oid = 'app_private.chat_slow_mode'::regclass), 'u', 'slow-mode state is UNLOGGED');
select is((select relpersistence from pg_class where oid = 'app_private.chat_transcript'::regclass), 'p', 'the transcript is durable');
select ok(has_function_privilege('authenticated', 'app_public.send_chat_message(uuid, text, text)', 'execute'), 'authenticated may chat');
select ok(not has_function_privilege('anon', 'app_public.send_chat_message(uuid, text, text)', 'execute'), 'anon may not even call send_chat_message');
select ok(has_function_privilege('anon', 'app_public.recent_chat_messages(uuid)', 'execute'), 'anyone may read the last messages');
select ok(not has_function_privilege('authenticated', 'app_private.flush_chat_transcript(int)', 'execute'), 'request roles cannot flush the transcript');

select tests.create_user('host', 'broadcaster');
select tests.create_user('alice');
select tests.create_user('bob');
select tests.create_user('mia', 'moderator');
update app_public.users set display_name = 'Alice A.', avatar_url = 'https://cdn.example/alice.png', vehicle_status = 'Pink Cadillac'
 where username = 'alice';
select tests.act_as((select id from app_public.users where username = 'host'));
select app_public.go_live('Chat show');
select tests.act_as_owner();
create table tests.t_ids as
  select (select id from app_public.streams where title = 'Chat show') as stream_id,
         (select id from app_public.users where username = 'alice') as alice,
         (select id from app_public.users where username = 'bob') as bob,
         (select id from app_public.users where username = 'host') as host,
         (select id from app_public.users where username = 'mia') as mia;
grant select on t_ids to public;

-- Identity row kept current by the trigger.
select is((select sender ->> 'display_name' from app_private.user_identities where user_id = (select alice from t_ids)), 'Alice A.',
  'identity row follows display name changes');
select is((select sender ->> 'vehicle_status' from app_private.user_identities where user_id = (select alice from t_ids)), 'Pink Cadillac',
  'identity row carries the vehicle status');

-- Validation.
select tests.act_as_anon();
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'hi'), '42501', null, 'anonymous: not allowed');
select tests.act_as((select alice from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), '   '), 'BADIN', 'chat message must be 1-500 characters', 'blank body: BADIN');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), repeat('x', 501)), 'BADIN', null, '501 characters: BADIN');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), E'bell\x07'), 'BADIN', 'chat message contains an invisible or control character (U+0007)', 'control character: BADIN (the message names it)');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), E'evil\u202Etxt'), 'BADIN', null, 'bidi override: BADIN');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), E'two\nlines'), 'BADIN', null, 'newline inside: BADIN');
select throws_ok(format('select app_public.send_chat_message(%L, %L, %L)', (select stream_id from t_ids), 'ok', repeat('c', 65)), 'BADIN', null, 'long client_id: BADIN');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', gen_random_uuid(), 'hi'), 'NOFND', null, 'unknown stream: NOFND');

-- A message: trimmed, 500 characters allowed, event carries everything needed to render it.
select is((app_public.send_chat_message((select stream_id from t_ids), '  hello world  ', 'c-1')).body, 'hello world', 'body is trimmed');
select is(current_setting('synchronous_commit'), 'off', 'the chat transaction commits with synchronous_commit = off');
select tests.act_as_owner();
select is(
  (select payload - 'message_id' - 'created_at' from app_private.stream_events where kind = 'chat' order by id desc limit 1),
  jsonb_build_object('body', 'hello world', 'client_id', 'c-1', 'sender', jsonb_build_object(
    'id', (select alice from t_ids), 'username', 'alice', 'display_name', 'Alice A.', 'avatar_url', 'https://cdn.example/alice.png',
    'role', 'viewer', 'badge', null, 'vehicle_status', 'Pink Cadillac')),
  'the chat event is self-contained: body, client id, display name, avatar, role, badge, vehicle');
select is((select count(*)::int from app_private.chat_transcript), 0, 'no durable write per message (transcript is written in batches)');

-- Rate limit: bursts of 5, then RATEL with a retry-after.
select tests.act_as((select alice from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), repeat('y', 500)), '500 characters: accepted (2nd in burst)');
select app_public.send_chat_message((select stream_id from t_ids), 'three');
select app_public.send_chat_message((select stream_id from t_ids), 'four');
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'five'), 'burst of 5 accepted');
select throws_like(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'six'),
  'chat rate limit for user alice: retry after 1.0 seconds', '6th message in the same second: RATEL with retry-after');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'six'), 'RATEL', null, 'error code RATEL');
select tests.act_as_owner();
update app_private.chat_rate_buckets set refilled_at = refilled_at - interval '2 seconds' where user_id = (select alice from t_ids);
select tests.act_as((select alice from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'after 2 s'), 'tokens refill at 1/s');
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'after 2 s again'), 'two seconds bought two messages');
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'third'), 'RATEL', null, '...and not three');

-- The broadcaster and moderators are exempt.
select tests.act_as((select host from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L) from generate_series(1, 20)', (select stream_id from t_ids), 'host spam'),
  'the broadcaster is not rate limited');
select is((app_public.send_chat_message((select stream_id from t_ids), 'badge?')).sender ->> 'badge', 'host', 'the broadcaster carries the host badge');
select tests.act_as((select mia from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L) from generate_series(1, 20)', (select stream_id from t_ids), 'mod spam'),
  'moderators are not rate limited');

-- Slow mode.
select tests.act_as((select bob from t_ids));
select throws_ok(format('select app_public.set_slow_mode(%L, 30)', (select stream_id from t_ids)), 'DENYD', null, 'a viewer cannot set slow mode');
select tests.act_as((select host from t_ids));
select is((app_public.set_slow_mode((select stream_id from t_ids), 30)).chat_slow_mode_seconds, 30, 'the broadcaster sets slow mode');
select throws_ok(format('select app_public.set_slow_mode(%L, 5000)', (select stream_id from t_ids)), 'BADIN', null, 'slow mode above 3600 s: BADIN');
select tests.act_as((select bob from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'slow one'), 'first message in slow mode');
select throws_like(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'slow two'),
  'slow mode in stream %: retry after 30.0 seconds', 'second message within 30 s: RATEL with retry-after 30');
select tests.act_as((select host from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L) from generate_series(1, 3)', (select stream_id from t_ids), 'host'),
  'slow mode does not apply to the broadcaster');

-- A mute written straight into the table (not through mute_user) applies at once: the hint that
-- lets send_chat_message skip the mute/ban lookups is kept by a trigger, not by mute_user.
select tests.act_as_owner();
insert into app_public.stream_mutes (stream_id, user_id) select stream_id, bob from t_ids;
select tests.act_as((select bob from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'muted?'), 'MUTED', null,
  'a mute inserted directly applies to the next message');

-- Not live: NLIVE.
select tests.act_as((select host from t_ids));
select app_public.end_stream((select stream_id from t_ids));
select tests.act_as((select bob from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'late'), 'NLIVE', null, 'ended stream: NLIVE');

select * from finish();
rollback;
