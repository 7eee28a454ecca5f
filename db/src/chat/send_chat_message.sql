create or replace function app_public.send_chat_message(stream_id uuid, body text, client_id text default null)
  returns app_public.chat_message
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_body text;
  v_is_banned boolean;
  v_sender jsonb;
  v_stream_id uuid;
  v_status text;
  v_slow int;
  v_exempt boolean;
  v_hinted boolean;
  v_found boolean;
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_tokens real;
  v_wait numeric;
  v_id bigint;
  v_created_at timestamptz;
begin
  -- Ephemeral chat is not durable by accident (rule 4): this transaction's commit does not wait
  -- for a WAL flush (and it writes no WAL-logged row anyway).
  perform set_config('synchronous_commit', 'off', true);
  if v_uid is null then
    raise exception 'sign in to chat' using errcode = 'NOAUT';
  end if;
  -- One read: the chat tunables (app_private.settings, defaults when a row is missing), the sender's
  -- identity with the badge for this stream, and the stream. It decides nothing yet: the input checks
  -- below come first, as they always have.
  select coalesce(c.rate, 1.0), coalesce(c.burst, 5.0), coalesce(c.max_length, 500),
         i.user_id is not null, i.is_banned, s.id, s.status, s.chat_slow_mode_seconds,
         i.sender || jsonb_build_object('badge', case
           when s.broadcaster_id = v_uid then 'host'
           when i.role in ('moderator', 'admin') then i.role::text
         end),
         s.broadcaster_id = v_uid or i.role in ('moderator', 'admin'),
         s.id = any (i.restricted_in)
    into v_rate, v_burst, v_max_length,
         v_found, v_is_banned, v_stream_id, v_status, v_slow, v_sender, v_exempt, v_hinted
    from (select max(t.value) filter (where t.key = 'chat_rate_per_second')::real as rate,
                 max(t.value) filter (where t.key = 'chat_burst')::real as burst,
                 max(t.value) filter (where t.key = 'chat_max_length')::int as max_length
            from app_private.settings t
           where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length')) c
    left join app_private.user_identities i on i.user_id = v_uid
    left join app_public.streams s on s.id = send_chat_message.stream_id;

  -- NFC, trimmed, 1 to chat_max_length characters, no control, bidi, zero-width or other invisible
  -- characters (app_hidden.clean_line, docs/security.md).
  v_body := app_hidden.clean_line(body, 'chat message', v_max_length);
  if client_id is not null and (char_length(client_id) > 64 or not app_hidden.is_clean_line(client_id)) then
    raise exception 'client_id must be at most 64 printable characters' using errcode = 'BADIN';
  end if;

  if not v_found or v_is_banned or v_stream_id is null or v_status <> 'live' then
    if not v_found then
      raise exception 'user % not found', v_uid using errcode = 'NOAUT';
    end if;
    if v_is_banned then
      raise exception 'user % is banned', v_sender ->> 'username' using errcode = 'BANND';
    end if;
    if v_stream_id is null then
      raise exception 'stream % not found', stream_id using errcode = 'NOFND';
    end if;
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;

  -- Stream bans and mutes: looked up only where the sender's hint names this stream (the hint is a
  -- superset of where such rows exist; the lookups decide).
  if v_hinted and not v_exempt then
    if exists (select 1 from app_public.stream_bans b
                where b.stream_id = v_stream_id and b.user_id = v_uid and (b.banned_until is null or b.banned_until > now())) then
      raise exception 'user % is banned from stream %', v_sender ->> 'username', v_stream_id using errcode = 'BANND';
    end if;
    if exists (select 1 from app_public.stream_mutes m
                where m.stream_id = v_stream_id and m.user_id = v_uid and (m.muted_until is null or m.muted_until > now())) then
      raise exception 'user % is muted in stream %', v_sender ->> 'username', v_stream_id using errcode = 'MUTED';
    end if;
  end if;

  if not v_exempt then
    -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
    if v_slow > 0 then
      insert into app_private.chat_slow_mode as s (stream_id, user_id, last_at) values (v_stream_id, v_uid, now())
      on conflict on constraint chat_slow_mode_pkey do update set last_at = excluded.last_at
        where s.last_at <= now() - make_interval(secs => v_slow);
      if not found then
        select round(greatest(ceil(extract(epoch from (s.last_at + make_interval(secs => v_slow) - now())) * 10), 1) / 10, 1)
          into v_wait from app_private.chat_slow_mode s where s.stream_id = v_stream_id and s.user_id = v_uid;
        raise exception 'slow mode in stream %: retry after % seconds', v_stream_id, v_wait
          using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
      end if;
    end if;
    -- Per-user token bucket: v_rate messages per second, bursts of v_burst.
    insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at) values (v_uid, v_burst - 1, now())
    on conflict (user_id) do update
      set tokens = least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) - 1,
          refilled_at = now()
      where least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) >= 1;
    if not found then
      select least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) into v_tokens
        from app_private.chat_rate_buckets b where b.user_id = v_uid;
      v_wait := round(greatest(ceil(((1 - v_tokens) / v_rate * 10)::numeric), 1) / 10, 1);
      raise exception 'chat rate limit for user %: retry after % seconds', v_sender ->> 'username', v_wait
        using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
    end if;
  end if;

  insert into app_private.chat_messages (stream_id, sender_id, body, client_id, sender)
  values (v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender)
  returning chat_messages.id, chat_messages.created_at into v_id, v_created_at;
  perform app_private.publish_stream_event(v_stream_id, 'chat', jsonb_build_object(
    'message_id', v_id,
    'body', v_body,
    'client_id', send_chat_message.client_id,
    'sender', v_sender,
    'created_at', v_created_at
  ));
  return row(v_id, v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender, v_created_at)::app_public.chat_message;
end;
$$;
revoke all on function app_public.send_chat_message(stream_id uuid, body text, client_id text) from public, anon, authenticated;
grant execute on function app_public.send_chat_message(stream_id uuid, body text, client_id text) to authenticated;
comment on function app_public.send_chat_message(stream_id uuid, body text, client_id text) is
  E'Sends a chat message to a live stream; it reaches viewers as a `chat` event carrying the sender''s identity.\nBody trimmed, 1-500 characters (setting chat_max_length), no control characters. Rate limited per user (1/s, bursts of 5: settings chat_rate_per_second, chat_burst) and by the stream''s slow mode; the broadcaster and moderators are exempt.\nErrors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message).';
