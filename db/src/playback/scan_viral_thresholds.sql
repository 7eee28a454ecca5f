create or replace function app_private.scan_viral_thresholds() returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_stream app_public.streams;
  v_n integer := 0;
begin
  if to_regprocedure('app_public.streams_viewer_count(app_public.streams)') is null then
    return 0;
  end if;
  for v_stream in select * from app_public.streams s where s.status = 'live' loop
    if app_private.apply_viewer_count(v_stream.id, app_private.playback_viewer_count(v_stream)) is not null then
      v_n := v_n + 1;
    end if;
  end loop;
  return v_n;
end;
$$;
revoke all on function app_private.scan_viral_thresholds() from public, anon, authenticated;
comment on function app_private.scan_viral_thresholds() is
  'Applies the thresholds to every live stream using the realtime viewer counts (no-op until they exist).';
