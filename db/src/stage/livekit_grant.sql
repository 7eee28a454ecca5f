create or replace function app_public.livekit_grant(stream_id uuid) returns app_public.livekit_grant
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return app_private.livekit_grant_for(livekit_grant.stream_id, app_public.current_user_id());
end;
$$;
revoke all on function app_public.livekit_grant(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.livekit_grant(stream_id uuid) to anon, authenticated;
comment on function app_public.livekit_grant(stream_id uuid) is
  'The caller''s LiveKit grant for a stream, from database state only (never from the request). Errors: NOAUT (anonymous), BANND, NOFND, NLIVE (stream ended).';
