create or replace function app_private.send_chat_messages(requests jsonb)
  returns table (ord integer, message_id bigint, stream_id uuid, sender_id uuid, body text, client_id text, sender jsonb,
                 created_at text, error_code text, error_message text, retry_after numeric)
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
-- The same rules as app_public.send_chat_message, for many messages from many senders in one
-- transaction (group commit). Each element of `requests` is {"sender_id", "stream_id", "body",
-- "client_id"}; the sender id is the one the server verified from the request's JWT. One row per
-- request, in request order: the message, or our error code, message and retry_after (RATEL). Nothing
-- raises for a bad request. Requests are decided in order, as if sent one after another: a sender's
-- token bucket and slow-mode clock run through their messages in the batch, and a refused message
-- changes neither. The rate, burst and length come from the same settings as send_chat_message's
-- (chat_rate_per_second, chat_burst, chat_max_length), and the body gets the same text rules as
-- app_hidden.clean_line (NFC, trimmed, no hidden or control characters), without raising.
-- Locks: the senders' bucket rows (a missing row is created full, which is the same state) and
-- slow-mode rows, in key order, before they are read.
#variable_conflict use_column
declare
  c_uuid constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_n integer;
  r record;
  v_tokens real;
  v_avail real;
  v_last timestamptz;
  v_wait numeric;
  v_id bigint;
  v_k integer := 0;
  -- Per sender (dense rank): bucket state; per (stream, sender) pair: last message in slow mode.
  u_seen boolean[] := '{}';
  u_tokens real[] := '{}';
  u_refilled timestamptz[] := '{}';
  u_dirty boolean[] := '{}';
  u_id uuid[] := '{}';
  p_seen boolean[] := '{}';
  p_last timestamptz[] := '{}';
  p_dirty boolean[] := '{}';
  p_stream uuid[] := '{}';
  p_user uuid[] := '{}';
  -- Per request: the outcome.
  o_id bigint[] := '{}';
  o_stream uuid[] := '{}';
  o_sender_id uuid[] := '{}';
  o_body text[] := '{}';
  o_client text[] := '{}';
  o_sender jsonb[] := '{}';
  o_code text[] := '{}';
  o_message text[] := '{}';
  o_retry numeric[] := '{}';
begin
  -- Ephemeral chat is not durable by accident (rule 4), as in send_chat_message.
  perform set_config('synchronous_commit', 'off', true);
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_chat_messages takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  select coalesce(max(t.value) filter (where t.key = 'chat_rate_per_second')::real, 1.0),
         coalesce(max(t.value) filter (where t.key = 'chat_burst')::real, 5.0),
         coalesce(max(t.value) filter (where t.key = 'chat_max_length')::int, 500)
    into v_rate, v_burst, v_max_length
    from app_private.settings t
   where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length');
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Every array indexed by request or rank is sized to the batch (1-based, so unnest lines them up).
  u_seen := array_fill(null::boolean, array[v_n]);
  u_tokens := array_fill(null::real, array[v_n]);
  u_refilled := array_fill(null::timestamptz, array[v_n]);
  u_dirty := array_fill(null::boolean, array[v_n]);
  u_id := array_fill(null::uuid, array[v_n]);
  p_seen := array_fill(null::boolean, array[v_n]);
  p_last := array_fill(null::timestamptz, array[v_n]);
  p_dirty := array_fill(null::boolean, array[v_n]);
  p_stream := array_fill(null::uuid, array[v_n]);
  p_user := array_fill(null::uuid, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_stream := array_fill(null::uuid, array[v_n]);
  o_sender_id := array_fill(null::uuid, array[v_n]);
  o_body := array_fill(null::text, array[v_n]);
  o_client := array_fill(null::text, array[v_n]);
  o_sender := array_fill(null::jsonb, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);
  o_retry := array_fill(null::numeric, array[v_n]);

  -- Sorted locks. Token buckets of every sender that exists (a full new bucket equals no bucket).
  insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at)
  select distinct i.user_id, v_burst, now()
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
   order by 1
  on conflict (user_id) do nothing;
  perform 1 from app_private.chat_rate_buckets b
   where b.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e where e ->> 'sender_id' ~ c_uuid)
   order by b.user_id
   for update;
  -- Slow-mode clocks of every (stream in slow mode, sender) pair ('-infinity': never chatted there).
  insert into app_private.chat_slow_mode as sm (stream_id, user_id, last_at)
  select distinct s.id, i.user_id, '-infinity'::timestamptz
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
    join app_public.streams s on s.id = (case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end)
   where s.chat_slow_mode_seconds > 0
   order by 1, 2
  on conflict on constraint chat_slow_mode_pkey do nothing;
  perform 1 from app_private.chat_slow_mode sm
    join (select case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end as s,
                 case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end as u
            from jsonb_array_elements(requests) e) x on x.s = sm.stream_id and x.u = sm.user_id
   order by sm.stream_id, sm.user_id
   for update of sm;

  for r in
    select q.*, i.user_id is not null as user_found, i.role, i.is_banned,
           s.id as s_id, s.status as s_status, s.chat_slow_mode_seconds as slow,
           i.sender || jsonb_build_object('badge', case
             when s.broadcaster_id = q.sender_id then 'host'
             when i.role in ('moderator', 'admin') then i.role::text
           end) as sender_json,
           s.broadcaster_id = q.sender_id or i.role in ('moderator', 'admin') as exempt,
           s.id = any (i.restricted_in) as hinted,
           lp.line as body_text, lp.problem as body_problem,
           b.tokens as b_tokens, b.refilled_at as b_refilled, sm.last_at as sm_last,
           dense_rank() over (order by q.sender_id) as urank,
           dense_rank() over (order by s.id, q.sender_id) as prank
      from (
        select e.ord::integer as ord,
               case when e.r ->> 'sender_id' ~ c_uuid then (e.r ->> 'sender_id')::uuid end as sender_id,
               e.r ->> 'stream_id' as stream_raw,
               case when e.r ->> 'stream_id' ~ c_uuid then (e.r ->> 'stream_id')::uuid end as stream_uuid,
               e.r ->> 'body' as body_raw,
               e.r ->> 'client_id' as client_text
          from jsonb_array_elements(requests) with ordinality e(r, ord)
      ) q
      cross join lateral app_hidden.line_problem(q.body_raw, 'chat message', v_max_length) lp
      left join app_private.user_identities i on i.user_id = q.sender_id
      left join app_public.streams s on s.id = q.stream_uuid
      left join app_private.chat_rate_buckets b on b.user_id = q.sender_id
      left join app_private.chat_slow_mode sm on sm.stream_id = s.id and sm.user_id = q.sender_id
     order by q.ord
  loop
    if not u_seen[r.urank] is true then
      u_seen[r.urank] := true; u_tokens[r.urank] := r.b_tokens; u_refilled[r.urank] := r.b_refilled; u_id[r.urank] := r.sender_id;
    end if;
    if not p_seen[r.prank] is true then
      p_seen[r.prank] := true; p_last[r.prank] := r.sm_last; p_stream[r.prank] := r.s_id; p_user[r.prank] := r.sender_id;
    end if;
    if r.sender_id is null then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := 'sign in to chat';
    elsif r.body_problem is not null then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := r.body_problem;
    elsif r.client_text is not null and (char_length(r.client_text) > 64 or not app_hidden.is_clean_line(r.client_text)) then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := 'client_id must be at most 64 printable characters';
    elsif not r.user_found then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := format('user %s not found', r.sender_id);
    elsif r.is_banned then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned', r.sender_json ->> 'username');
    elsif r.s_id is null then
      o_code[r.ord] := 'NOFND'; o_message[r.ord] := format('stream %s not found', coalesce(r.stream_raw, '<NULL>'));
    elsif r.s_status <> 'live' then
      o_code[r.ord] := 'NLIVE'; o_message[r.ord] := format('stream %s is not live', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_bans b
             where b.stream_id = r.s_id and b.user_id = r.sender_id and (b.banned_until is null or b.banned_until > now())) then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned from stream %s', r.sender_json ->> 'username', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_mutes m
             where m.stream_id = r.s_id and m.user_id = r.sender_id and (m.muted_until is null or m.muted_until > now())) then
      o_code[r.ord] := 'MUTED'; o_message[r.ord] := format('user %s is muted in stream %s', r.sender_json ->> 'username', r.s_id);
    else
      v_wait := null;
      if not r.exempt then
        -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
        v_last := p_last[r.prank];
        if r.slow > 0 and v_last is not null and v_last > now() - make_interval(secs => r.slow) then
          v_wait := round(greatest(ceil(extract(epoch from (v_last + make_interval(secs => r.slow) - now())) * 10), 1) / 10, 1);
          o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
          o_message[r.ord] := format('slow mode in stream %s: retry after %s seconds', r.s_id, v_wait);
        else
          -- Token bucket: v_rate messages per second, bursts of v_burst.
          v_tokens := u_tokens[r.urank];
          v_avail := case when v_tokens is null then v_burst
                          else least(v_burst, v_tokens + extract(epoch from now() - u_refilled[r.urank])::real * v_rate) end;
          if v_avail < 1 then
            v_wait := round(greatest(ceil(((1 - v_avail) / v_rate * 10)::numeric), 1) / 10, 1);
            o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
            o_message[r.ord] := format('chat rate limit for user %s: retry after %s seconds', r.sender_json ->> 'username', v_wait);
          else
            u_tokens[r.urank] := v_avail - 1; u_refilled[r.urank] := now(); u_dirty[r.urank] := true;
            if r.slow > 0 then
              p_last[r.prank] := now(); p_dirty[r.prank] := true;
            end if;
          end if;
        end if;
      end if;
      if v_wait is null then
        v_id := nextval('app_private.chat_message_id_seq');
        v_k := v_k + 1;
        o_id[r.ord] := v_id; o_stream[r.ord] := r.s_id; o_sender_id[r.ord] := r.sender_id; o_body[r.ord] := r.body_text;
        o_client[r.ord] := r.client_text; o_sender[r.ord] := r.sender_json;
      end if;
    end if;
  end loop;

  if v_k > 0 then
    insert into app_private.chat_messages (id, stream_id, sender_id, body, client_id, sender)
    select x.id, x.stream_id, x.sender_id, x.body, x.client_id, x.sender
      from unnest(o_id, o_stream, o_sender_id, o_body, o_client, o_sender) with ordinality x(id, stream_id, sender_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
    -- One outbox event per message, in request order (what app_private.publish_stream_event inserts).
    insert into app_private.stream_events (stream_id, kind, payload)
    select x.stream_id, 'chat', jsonb_build_object('message_id', x.id, 'body', x.body, 'client_id', x.client_id,
                                                   'sender', x.sender, 'created_at', now())
      from unnest(o_id, o_stream, o_body, o_client, o_sender) with ordinality x(id, stream_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
  end if;
  update app_private.chat_rate_buckets b set tokens = x.tokens, refilled_at = x.refilled_at
    from unnest(u_id, u_tokens, u_refilled, u_dirty) x(user_id, tokens, refilled_at, dirty)
   where x.dirty and b.user_id = x.user_id;
  update app_private.chat_slow_mode sm set last_at = x.last_at
    from unnest(p_stream, p_user, p_last, p_dirty) x(stream_id, user_id, last_at, dirty)
   where x.dirty and sm.stream_id = x.stream_id and sm.user_id = x.user_id;

  return query
    select i, o_id[i], o_stream[i], o_sender_id[i], o_body[i], o_client[i], o_sender[i],
           case when o_id[i] is not null then to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') end,
           o_code[i], o_message[i], o_retry[i]
      from generate_series(1, v_n) i;
end;
$$;
revoke all on function app_private.send_chat_messages(requests jsonb) from public, anon, authenticated;
grant execute on function app_private.send_chat_messages(requests jsonb) to trollcity_server;
comment on function app_private.send_chat_messages(requests jsonb) is
  'Group commit for chat: app_public.send_chat_message''s rules for a batch of messages from many senders (sender ids verified by the server), one outcome row per request (message, or error code, message and retry_after), in request order; never raises for one request; synchronous_commit off. Executable by trollcity_server only.';
