create or replace function app_private.livekit_grant_for(stream_id uuid, user_id uuid) returns app_public.livekit_grant
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_stream app_public.streams;
  v_seat_expires timestamptz;
  v_on_seat boolean := false;
  v_publish boolean;
  v_ttl integer;
  v_addr text;
  v_tokens real;
  v_wait numeric;
  -- Signed-out viewers: a bucket of 20 tokens per client address, refilled at one every 5 s.
  c_anon_burst constant real := 20;
  c_anon_rate constant real := 0.2;
begin
  if user_id is not null then
    select * into v_user from app_public.users u where u.id = livekit_grant_for.user_id;
    if v_user.id is null then
      raise exception 'user % not found: sign in again', user_id using errcode = 'NOAUT';
    end if;
    if v_user.is_banned then
      raise exception 'user % is banned', v_user.username using errcode = 'BANND';
    end if;
  end if;
  select * into v_stream from app_public.streams s where s.id = livekit_grant_for.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if user_id is null then
    -- Signed out: watch only (no publish, no data), a throwaway identity, a short token. A request
    -- (role anon) is rate limited per client address (request.client_addr, set by the server; callers
    -- that do not say share one bucket); the server's own checks (webhooks) are not.
    v_addr := nullif(current_setting('request.client_addr', true), '');
    if v_addr is not null or current_setting('role', true) = 'anon' then
      v_addr := coalesce(v_addr, 'unknown');
      insert into app_private.livekit_anon_buckets as b (client_addr, tokens, refilled_at) values (v_addr, c_anon_burst - 1, now())
      on conflict (client_addr) do update
        set tokens = least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) - 1,
            refilled_at = now()
        where least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) >= 1;
      if not found then
        select least(c_anon_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * c_anon_rate) into v_tokens
          from app_private.livekit_anon_buckets b where b.client_addr = v_addr;
        v_wait := round(greatest(ceil(((1 - v_tokens) / c_anon_rate * 10)::numeric), 1) / 10, 1);
        raise exception 'too many stage tokens for signed-out viewers from this address: retry after % seconds', v_wait
          using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
      end if;
    end if;
    return row(v_stream.id::text, 'anon-' || left(replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20),
               false, true, false, false, 300)::app_public.livekit_grant;
  end if;
  select true, s.expires_at into v_on_seat, v_seat_expires
    from app_public.stream_seats s
   where s.stream_id = v_stream.id and s.user_id = v_user.id and s.status = 'active'
     and (s.expires_at is null or s.expires_at > now());
  v_publish := v_user.id = v_stream.broadcaster_id or coalesce(v_on_seat, false);
  v_ttl := case
    when not v_publish then 3600
    when v_user.id = v_stream.broadcaster_id or v_seat_expires is null then 300
    else greatest(1, least(300, ceil(extract(epoch from v_seat_expires - now()))::integer))
  end;
  return row(v_stream.id::text, v_user.id::text, v_publish, true, v_publish, v_user.role = 'admin', v_ttl)::app_public.livekit_grant;
end;
$$;
revoke all on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) from public, anon, authenticated;
comment on function app_private.livekit_grant_for(stream_id uuid, user_id uuid) is
  'The LiveKit grant of a user in a stream''s room (server side: token minting, webhooks, enforcement). A null user is a signed-out viewer: subscribe only, identity anon-<random>, 5-minute token, 20 per client address then one every 5 s (RATEL). Errors: NOAUT, BANND, NOFND, NLIVE, RATEL.';
