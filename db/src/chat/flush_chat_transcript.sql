create or replace function app_private.flush_chat_transcript(max_rows int default 10000) returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_moved int;
  v_days int;
begin
  -- One statement per batch: delete from the buffer, insert into the transcript. SKIP LOCKED makes
  -- concurrent flushes safe; messages of streams or users deleted meanwhile are dropped.
  with moved as (
    delete from app_private.chat_messages m
     where m.id in (select b.id from app_private.chat_messages b order by b.id limit max_rows for update skip locked)
    returning m.*
  )
  insert into app_private.chat_transcript (id, stream_id, sender_id, body, client_id, sender, created_at, deleted_at)
  select mv.id, mv.stream_id, mv.sender_id, mv.body, mv.client_id, mv.sender, mv.created_at, mv.deleted_at
    from moved mv
   where exists (select 1 from app_public.streams s where s.id = mv.stream_id)
     and exists (select 1 from app_public.users u where u.id = mv.sender_id)
  on conflict (id) do nothing;
  get diagnostics v_moved = row_count;
  select coalesce(max(value)::int, 30) into v_days from app_private.settings where key = 'chat_transcript_retention_days';
  delete from app_private.chat_transcript t
   where t.id in (select o.id from app_private.chat_transcript o
                   where o.created_at < now() - make_interval(days => v_days) limit max_rows);
  return v_moved;
end;
$$;
revoke all on function app_private.flush_chat_transcript(max_rows integer) from public, anon, authenticated;
comment on function app_private.flush_chat_transcript(max_rows integer) is
  'Moves up to max_rows buffered chat messages into the durable transcript in one statement and prunes messages older than the chat_transcript_retention_days setting (default 30). Returns the number moved.';
