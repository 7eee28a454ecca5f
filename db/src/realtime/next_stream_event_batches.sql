create or replace function app_private.next_stream_event_batches(max_events int default 10000, max_payload int default 7900)
  returns table (stream_id uuid, payload text, events int)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  r record;
  v_base bigint;
  v_n int;
  v_head text;
  v_buf text := '';
  v_buf_len int := 0;
  v_count int := 0;
  v_event text;
  v_event_len int;
begin
  if max_payload is null or max_payload < 200 or max_payload > 7999 then
    raise exception 'max_payload must be 200-7999 bytes (NOTIFY payloads must stay below 8000)' using errcode = 'BADIN';
  end if;
  select count(*) into v_n from (
    select 1 from app_private.stream_events e where e.seq is null limit max_events
  ) p;
  if v_n = 0 then
    return;
  end if;
  -- Reserve v_n delivery numbers (only the relay uses this sequence, under its lock).
  v_base := nextval('app_private.stream_event_seq');
  if v_n > 1 then
    perform setval('app_private.stream_event_seq', v_base + v_n - 1);
  end if;
  with picked as (
    select e.id, v_base + row_number() over (order by e.id) - 1 as seq
      from app_private.stream_events e
     where e.seq is null
     order by e.id
     limit v_n
  )
  update app_private.stream_events e set seq = p.seq from picked p where e.id = p.id;

  for r in
    select e.stream_id, e.seq, e.kind, e.created_at, e.payload
      from app_private.stream_events e
     where e.seq between v_base and v_base + v_n - 1
     order by e.stream_id, e.seq
  loop
    if stream_id is distinct from r.stream_id then
      if v_buf_len > 0 then
        payload := v_head || v_buf || ']}';
        events := v_count;
        return next;
      end if;
      stream_id := r.stream_id;
      v_head := '{"stream_id":"' || r.stream_id || '","events":[';
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'payload', r.payload)::text;
    v_event_len := octet_length(v_event);
    if octet_length(v_head) + v_event_len + 2 > max_payload then
      -- Too big for any NOTIFY: deliver a stub; clients fetch the event with streamEventsSince.
      v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'truncated', true)::text;
      v_event_len := octet_length(v_event);
    end if;
    if v_buf_len > 0 and octet_length(v_head) + v_buf_len + 1 + v_event_len + 2 > max_payload then
      payload := v_head || v_buf || ']}';
      events := v_count;
      return next;
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    if v_buf_len > 0 then
      v_buf := v_buf || ',';
      v_buf_len := v_buf_len + 1;
    end if;
    v_buf := v_buf || v_event;
    v_buf_len := v_buf_len + v_event_len;
    v_count := v_count + 1;
  end loop;
  if v_buf_len > 0 then
    payload := v_head || v_buf || ']}';
    events := v_count;
    return next;
  end if;
end;
$$;
revoke all on function app_private.next_stream_event_batches(max_events integer, max_payload integer) from public, anon, authenticated;
comment on function app_private.next_stream_event_batches(max_events integer, max_payload integer) is
  'Numbers up to max_events pending outbox events in delivery order (seq) and returns them as per-stream JSON batches {"stream_id", "events": [{id, kind, at, payload}]} of at most max_payload bytes each.';
