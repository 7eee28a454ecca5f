create or replace function app_public.admin_livekit_failures()
  returns setof app_public.livekit_failure
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  return query
    select e.stream_id, st.title, u.username, e.can_publish, e.attempts, e.last_error, e.updated_at
      from app_private.livekit_enforcements e
      left join app_public.streams st on st.id = e.stream_id
      left join app_public.users u on u.id = e.user_id
     where e.state = 'failing'
     order by e.updated_at desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_livekit_failures() from public, anon, authenticated;
grant execute on function app_public.admin_livekit_failures() to authenticated;
comment on function app_public.admin_livekit_failures() is
  'Admins: LiveKit seat enforcements that keep failing (the worker retries them), newest first. Errors: NOAUT, BANND, DENYD.';
