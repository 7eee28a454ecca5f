-- Moderation: mutes (with duration, unmute), bans, deletions, the moderation log, last 50 messages, transcript batches.
begin;
select plan(36);

select tests.create_user('host', 'broadcaster');
select tests.create_user('other_host', 'broadcaster');
select tests.create_user('alice');
select tests.create_user('bob');
select tests.create_user('mia', 'moderator');
select tests.act_as((select id from app_public.users where username = 'host'));
select app_public.go_live('Moderated show');
select tests.act_as_owner();
create table tests.t_ids as
  select (select id from app_public.streams where title = 'Moderated show') as stream_id,
         (select id from app_public.users where username = 'alice') as alice,
         (select id from app_public.users where username = 'bob') as bob,
         (select id from app_public.users where username = 'host') as host,
         (select id from app_public.users where username = 'other_host') as other_host,
         (select id from app_public.users where username = 'mia') as mia;
grant select on t_ids to public;

select ok(not has_table_privilege('authenticated', 'app_public.stream_mutes', 'insert'), 'mutes are written only through mute_user');
select ok(not has_table_privilege('authenticated', 'app_public.moderation_actions', 'insert'), 'the log is written only by moderation functions');

-- Mute: who may, and its effect.
select tests.act_as((select bob from t_ids));
select throws_ok(format('select app_public.mute_user(%L, %L)', (select stream_id from t_ids), (select alice from t_ids)), 'DENYD', null, 'a viewer cannot mute');
select tests.act_as((select other_host from t_ids));
select throws_ok(format('select app_public.mute_user(%L, %L)', (select stream_id from t_ids), (select alice from t_ids)), 'DENYD', null, 'another broadcaster cannot mute in my stream');
select tests.act_as((select mia from t_ids));
select throws_ok(format('select app_public.mute_user(%L, %L)', (select stream_id from t_ids), (select host from t_ids)), 'DENYD', null, 'nobody mutes the broadcaster in their own stream');
select tests.act_as((select host from t_ids));
select throws_ok(format('select app_public.mute_user(%L, %L, 0)', (select stream_id from t_ids), (select alice from t_ids)), 'BADIN', null, 'zero duration: BADIN');
select throws_ok(format('select app_public.mute_user(%L, %L)', (select stream_id from t_ids), gen_random_uuid()), 'NOFND', null, 'unknown user: NOFND');
select throws_ok(format('select app_public.mute_user(%L, %L)', (select stream_id from t_ids), (select mia from t_ids)), 'DENYD', null, 'only an admin mutes a moderator');
select is((app_public.mute_user((select stream_id from t_ids), (select alice from t_ids), 600, 'spam')).muted_until, now() + interval '10 minutes',
  'the broadcaster mutes alice for 10 minutes');
select tests.act_as((select alice from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'let me talk'), 'MUTED', null, 'a muted user: MUTED');
select is((select count(*)::int from app_public.stream_mutes), 1, 'a muted user sees their own mute');
select tests.act_as((select bob from t_ids));
select is((select count(*)::int from app_public.stream_mutes), 0, 'other viewers do not see mutes');
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'bob still talks'), 'other users still chat');
-- An expired mute no longer applies.
select tests.act_as_owner();
update app_public.stream_mutes set muted_until = now() - interval '1 second' where user_id = (select alice from t_ids);
select tests.act_as((select alice from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'mute expired'), 'an expired mute no longer applies');
-- Indefinite mute, then unmute.
select tests.act_as((select mia from t_ids));
select is((app_public.mute_user((select stream_id from t_ids), (select alice from t_ids))).muted_until, null, 'a moderator mutes indefinitely');
select tests.act_as((select alice from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'again?'), 'MUTED', null, 'indefinitely muted: MUTED');
select tests.act_as((select host from t_ids));
select is(app_public.unmute_user((select stream_id from t_ids), (select alice from t_ids)), true, 'unmute');
select is(app_public.unmute_user((select stream_id from t_ids), (select alice from t_ids)), false, 'unmute twice: false');
select tests.act_as((select alice from t_ids));
select lives_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'free again'), 'unmuted users chat again');

-- Deletion: by sender or moderator, emits chat_deleted, disappears from the last-50.
select tests.act_as_owner();
create table tests.t_msgs as
  select (select m.id from app_private.chat_messages m where m.body = 'bob still talks') as bob_msg,
         (select m.id from app_private.chat_messages m where m.body = 'free again') as alice_msg;
grant select on t_msgs to public;
select tests.act_as((select alice from t_ids));
select throws_ok(format('select app_public.delete_chat_message(%s)', (select bob_msg from t_msgs)), 'DENYD', null, 'a viewer cannot delete someone else''s message');
select throws_ok('select app_public.delete_chat_message(999999999)', 'NOFND', null, 'unknown message: NOFND');
select tests.act_as((select host from t_ids));
select is(app_public.delete_chat_message((select bob_msg from t_msgs), 'rude'), true, 'the broadcaster deletes bob''s message');
select is(app_public.delete_chat_message((select bob_msg from t_msgs)), false, 'deleting twice: false');
select tests.act_as_owner();
select is((select payload from app_private.stream_events where kind = 'chat_deleted' order by id desc limit 1),
  jsonb_build_object('message_id', (select bob_msg from t_msgs)), 'a chat_deleted event names the message');
select tests.act_as_anon();
select is((select array_agg(body order by id) from app_public.recent_chat_messages((select stream_id from t_ids))),
  array['mute expired', 'free again'], 'last messages: oldest kept, deleted one gone');

-- Transcript: written in batches, keeps deletions; recent messages read across buffer and transcript.
select tests.act_as_owner();
select is(app_private.flush_chat_transcript(), 3, 'one flush moves the buffered messages');
select is((select count(*)::int from app_private.chat_messages), 0, 'the buffer is empty after a flush');
select ok((select deleted_at is not null from app_private.chat_transcript where id = (select bob_msg from t_msgs)), 'the transcript keeps the deletion');
select tests.act_as((select alice from t_ids));
select is(app_public.delete_chat_message((select alice_msg from t_msgs)), true, 'a sender deletes their own message (already in the transcript)');
select tests.act_as_anon();
select is((select array_agg(body order by id) from app_public.recent_chat_messages((select stream_id from t_ids))),
  array['mute expired'], 'deletion in the transcript hides the message');

-- Ban: rejected with BANND, messages hidden for everyone, chat_deleted by user.
select tests.act_as((select bob from t_ids));
select app_public.send_chat_message((select stream_id from t_ids), 'bob before the ban');
select tests.act_as((select host from t_ids));
select is((app_public.ban_user((select stream_id from t_ids), (select bob from t_ids), 'troll')).user_id, (select bob from t_ids), 'the broadcaster bans bob');
select tests.act_as((select bob from t_ids));
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'hello?'), 'BANND', null, 'banned: BANND');
select tests.act_as_owner();
select is((select payload from app_private.stream_events where kind = 'chat_deleted' order by id desc limit 1),
  jsonb_build_object('user_id', (select bob from t_ids), 'reason', 'ban'), 'a ban tells clients to hide the user''s messages');
select tests.act_as_anon();
select ok(not exists (select 1 from app_public.recent_chat_messages((select stream_id from t_ids)) where sender_id = (select bob from t_ids)),
  'a banned user''s messages are not in the last 50');

-- Moderation log: the broadcaster reads it; viewers do not.
select tests.act_as((select host from t_ids));
select is((select array_agg(action order by id) from app_public.moderation_actions),
  array['mute', 'mute', 'unmute', 'delete_message', 'ban'], 'the broadcaster reads the moderation log');
select tests.act_as((select bob from t_ids));
select is((select count(*)::int from app_public.moderation_actions), 0, 'viewers cannot read the moderation log');

select * from finish();
rollback;
