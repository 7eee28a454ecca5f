create or replace function app_private.playback_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_count integer;
begin
  if to_regprocedure('app_public.streams_viewer_count(app_public.streams)') is null then
    return null;
  end if;
  execute 'select app_public.streams_viewer_count($1)' using s into v_count;
  return v_count;
end;
$$;
revoke all on function app_private.playback_viewer_count(s app_public.streams) from public, anon, authenticated;
comment on function app_private.playback_viewer_count(s app_public.streams) is
  'The viewer count from app_public.streams_viewer_count when the realtime feature provides it, else null.';
