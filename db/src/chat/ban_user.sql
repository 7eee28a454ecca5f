create or replace function app_public.ban_user(stream_id uuid, user_id uuid, reason text default null, duration_seconds int default null)
  returns app_public.stream_bans
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_ban app_public.stream_bans;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'ban duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  insert into app_public.stream_bans as b (stream_id, user_id, banned_by, reason, banned_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_bans_pkey do update
    set banned_by = excluded.banned_by, reason = excluded.reason, banned_until = excluded.banned_until, created_at = now()
  returning * into v_ban;
  perform app_private.log_moderation(stream_id, 'ban', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  -- Every client hides the banned user's messages.
  perform app_private.publish_stream_event(stream_id, 'chat_deleted', jsonb_build_object('user_id', user_id, 'reason', 'ban'));
  return v_ban;
end;
$$;
revoke all on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) from public, anon, authenticated;
grant execute on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) to authenticated;
comment on function app_public.ban_user(stream_id uuid, user_id uuid, reason text, duration_seconds integer) is
  'Bans a user from a stream''s chat (null duration = until unbanned) and hides their messages for everyone (a chat_deleted event with user_id). Errors: NOAUT, NOFND, DENYD, BADIN.';
