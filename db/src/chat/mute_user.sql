create or replace function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds int default null, reason text default null)
  returns app_public.stream_mutes
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_mute app_public.stream_mutes;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'mute duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  insert into app_public.stream_mutes as m (stream_id, user_id, muted_by, reason, muted_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_mutes_pkey do update
    set muted_by = excluded.muted_by, reason = excluded.reason, muted_until = excluded.muted_until, created_at = now()
  returning * into v_mute;
  perform app_private.log_moderation(stream_id, 'mute', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  return v_mute;
end;
$$;
revoke all on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) from public, anon, authenticated;
grant execute on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) to authenticated;
comment on function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds integer, reason text) is
  'Mutes a user in a stream for duration_seconds (null = until unmuted); muting again replaces the duration. Broadcaster or moderator only. Errors: NOAUT, NOFND, DENYD, BADIN.';
