-- Relay: one batch per stream per tick, payloads under 8000 bytes, delivery numbering, catch-up,
-- presence counts and viewer_count events.
begin;
select plan(22);

select is((select relpersistence from pg_class where oid = 'app_private.presence_counts'::regclass), 'u', 'presence counts are UNLOGGED');
select ok(not has_function_privilege('authenticated', 'app_private.relay_stream_events(int, int)', 'execute'), 'request roles cannot relay');
select ok(has_function_privilege('anon', 'app_public.stream_events_since(uuid, bigint)', 'execute'), 'anyone may catch up');

create table tests.t_ids as select gen_random_uuid() as s1, gen_random_uuid() as s2;
grant select on t_ids to public;

-- Nothing pending: nothing sent.
delete from app_private.stream_events;
select is((select count(*)::int from app_private.next_stream_event_batches()), 0, 'no pending events: no batch');

-- 30 small events on s1, 3 on s2, interleaved: one batch per stream, in order.
select app_private.publish_stream_event(case when i % 11 = 0 then (select s2 from t_ids) else (select s1 from t_ids) end, 'chat',
  jsonb_build_object('n', i)) from generate_series(1, 33) i;
create table tests.t_b1 as select * from app_private.next_stream_event_batches();
select is((select count(*)::int from t_b1), 2, 'one batch per stream');
select is((select events from t_b1 where stream_id = (select s1 from t_ids)), 30, 'the s1 batch carries its 30 events');
select is((select array_agg((e ->> 'payload')::jsonb ->> 'n' order by ord)::int[]
             from t_b1, jsonb_array_elements(t_b1.payload::jsonb -> 'events') with ordinality as x(e, ord)
            where t_b1.stream_id = (select s2 from t_ids)), array[11, 22, 33], 'the s2 batch: its events, in order');
select is((select payload::jsonb ->> 'stream_id' from t_b1 where stream_id = (select s1 from t_ids)), (select s1::text from t_ids), 'batch names its stream');
select ok((select bool_and((e -> 'id')::bigint > 0 and e ? 'kind' and e ? 'at') from t_b1, jsonb_array_elements(payload::jsonb -> 'events') e),
  'each event has id, kind, at');
select is((select count(*)::int from app_private.stream_events where seq is null), 0, 'every event is numbered');
select ok((select array_agg(seq order by id) = array_agg(seq order by seq) from app_private.stream_events), 'delivery numbers follow outbox order');
select is((select count(*)::int from app_private.next_stream_event_batches()), 0, 'relayed events are not sent again');

-- Large batch: split under the payload limit, nothing lost.
select app_private.publish_stream_event((select s1 from t_ids), 'chat', jsonb_build_object('body', repeat('x', 400), 'n', i)) from generate_series(1, 100) i;
create table tests.t_b2 as select * from app_private.next_stream_event_batches();
select ok((select count(*) from t_b2) >= 6, 'a 45 KB backlog is split into several NOTIFY payloads');
select ok((select max(octet_length(payload)) from t_b2) < 8000, 'every payload stays under 8000 bytes');
select is((select sum(events)::int from t_b2), 100, 'all 100 events are in the batches');
select is((select count(*)::int from t_b2, jsonb_array_elements(payload::jsonb -> 'events')), 100, '...each exactly once');
-- One event bigger than a payload: a stub that says so.
select app_private.publish_stream_event((select s1 from t_ids), 'gift', jsonb_build_object('art', repeat('y', 9000)));
select is((select (payload::jsonb -> 'events' -> 0 ->> 'truncated')::boolean from app_private.next_stream_event_batches()), true,
  'an oversize event is delivered as a truncated stub');

-- Catch-up by last seen id.
create table tests.t_last as select max(seq) - 5 as seq from app_private.stream_events where stream_id = (select s1 from t_ids);
grant select on t_last to public;
select tests.act_as_anon();
select is((select count(*)::int from app_public.stream_events_since((select s1 from t_ids), 0)), 131, 'catch-up from 0: every relayed s1 event');
select is((select count(*)::int from app_public.stream_events_since((select s1 from t_ids), (select seq from t_last))), 5,
  'catch-up after an id: only newer events');
select tests.act_as_owner();

-- Presence: per-process counts summed, stale processes ignored; viewer_count published on change.
select app_private.flush_presence('node-a', jsonb_build_object((select s1 from t_ids), 7));
select app_private.flush_presence('node-b', jsonb_build_object((select s1 from t_ids), 5, (select s2 from t_ids), 1));
insert into app_private.presence_counts (node_id, stream_id, viewers, updated_at) values ('dead-node', (select s1 from t_ids), 1000, now() - interval '1 minute');
select tests.create_user('host', 'broadcaster');
insert into app_public.streams (id, broadcaster_id, title) select s1, (select id from app_public.users where username = 'host'), 'Counted' from t_ids;
select is((select app_public.streams_viewer_count(s) from app_public.streams s where s.id = (select s1 from t_ids)), 12,
  'viewer count sums live processes and ignores a dead one');
update app_private.relay_state set counts_at = '-infinity';
delete from app_private.stream_events;
select app_private.relay_stream_events();
select is((select array_agg(payload ->> 'viewers' order by payload ->> 'viewers') from app_private.stream_events where kind = 'viewer_count'),
  array['1', '12'], 'one viewer_count event per stream');
select app_private.flush_presence('node-b', '{}');
select app_private.relay_stream_events();
select is((select count(*)::int from app_private.stream_events where kind = 'viewer_count'), 2, 'no second viewer_count within the same second');

select * from finish();
rollback;
