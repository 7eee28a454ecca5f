-- Crash recovery: PostgreSQL empties every UNLOGGED table after a crash (pg_ctl -m immediate, kill -9,
-- power loss). Everything that lives in one must come back by itself: here we truncate them all, as
-- recovery does, and check that the relay publishes viewer counts and prunes the outbox again.
-- docs/operations.md has one row per UNLOGGED table (what a crash loses, how it recovers).
begin;
select plan(11);

select is(
  (select array_agg(c.relname::text order by c.relname) from pg_class c
    where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
      and c.relpersistence = 'u' and c.relkind in ('r', 'p')),
  array['chat_messages', 'chat_rate_buckets', 'chat_slow_mode', 'livekit_anon_buckets', 'playback_failure_reports',
        'presence_counts', 'relay_state', 'stream_events', 'stream_viewer_counts'],
  'the UNLOGGED tables are exactly the ones docs/operations.md accounts for');
select is((select relpersistence from pg_class where oid = 'app_private.chat_message_id_seq'::regclass), 'p',
  'chat message ids come from a logged sequence (the transcript keeps the ids: no reuse after a crash)');
select is((select relpersistence from pg_class where oid = 'app_private.stream_event_seq'::regclass), 'p',
  'delivery numbers come from a logged sequence (clients resume with after=<id>: never reused)');

select tests.create_user('crash_host', 'broadcaster');
create table tests.t_s as select gen_random_uuid() as id;
grant select on t_s to public;
insert into app_public.streams (id, broadcaster_id, title)
select id, (select id from app_public.users where username = 'crash_host'), 'Survives' from t_s;

create table tests.t_seq as select last_value from app_private.stream_event_seq;
-- What crash recovery does to UNLOGGED tables.
truncate app_private.relay_state, app_private.presence_counts, app_private.stream_viewer_counts, app_private.stream_events, app_private.livekit_anon_buckets,
  app_private.chat_messages, app_private.chat_rate_buckets, app_private.chat_slow_mode, app_private.playback_failure_reports;

-- Server processes flush presence again within PRESENCE_FLUSH_MS; the relay tick publishes the count.
select app_private.flush_presence('node-after-crash', jsonb_build_object((select id from t_s), 3));
select is(app_private.publish_viewer_counts(), 1, 'after a crash the relay publishes viewer counts again');
select is((select (payload ->> 'viewers')::int from app_private.stream_events where kind = 'viewer_count' and stream_id = (select id from t_s)),
  3, '...with the live count');
select is((select count(*)::int from app_private.relay_state), 1, 'relay_state has its row again');
select is(app_private.publish_viewer_counts(), 0, 'still at most once per second');
select ok((select last_value from app_private.stream_event_seq) >= (select last_value from t_seq) + 1000000,
  'delivery numbers jump ahead after a crash (the relay commits asynchronously: ids seen just before it may not be durable)');
select is(app_private.restore_relay_state(), false, 'only once: the row is back');

-- The outbox is pruned again: an event older than the retention window goes.
insert into app_private.stream_events (stream_id, kind, payload, created_at)
select id, 'chat', '{}', now() - interval '1 hour' from t_s;
select is(app_private.prune_stream_events(), 1, 'after a crash the relay prunes the outbox again');

-- The whole relay tick on emptied tables: no error, events numbered.
truncate app_private.relay_state;
select app_private.flush_presence('node-after-crash', jsonb_build_object((select id from t_s), 4));
select app_private.relay_stream_events();
select is((select count(*)::int from app_private.stream_events where seq is null), 0, 'a relay tick after a crash relays everything');

select * from finish();
rollback;
