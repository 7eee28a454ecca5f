create or replace function app_public.recent_chat_messages(stream_id uuid) returns setof app_public.chat_message
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select r.id, r.stream_id, r.sender_id, r.body, r.client_id, r.sender, r.created_at
    from (
      (select m.id, m.stream_id, m.sender_id, m.body, m.client_id, m.sender, m.created_at
         from app_private.chat_messages m
        where m.stream_id = recent_chat_messages.stream_id and m.deleted_at is null
        order by m.id desc limit 200)
      union all
      (select t.id, t.stream_id, t.sender_id, t.body, t.client_id, t.sender, t.created_at
         from app_private.chat_transcript t
        where t.stream_id = recent_chat_messages.stream_id and t.deleted_at is null
        order by t.id desc limit 200)
    ) r
   where not exists (select 1 from app_public.users u where u.id = r.sender_id and u.is_banned)
     and not exists (select 1 from app_public.stream_bans b
                      where b.stream_id = r.stream_id and b.user_id = r.sender_id
                        and (b.banned_until is null or b.banned_until > now()))
   order by r.id desc
   limit 50
$$;
revoke all on function app_public.recent_chat_messages(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.recent_chat_messages(stream_id uuid) to anon, authenticated;
comment on function app_public.recent_chat_messages(stream_id uuid) is
  'The last 50 chat messages of a stream (newest first), without deleted messages or messages of banned users: what a new viewer sees.';
