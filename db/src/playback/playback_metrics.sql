create or replace function app_private.playback_metrics() returns table (streams_hls integer, streams_check_failing integer, checks_failed integer, failure_reports integer)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select (select count(*) from app_private.stream_playback where mode = 'hls')::integer,
         (select count(*) from app_private.stream_playback where last_check_ok = false)::integer,
         (select count(*) from app_private.hls_checks where not ok)::integer,
         (select count(*) from app_private.playback_failure_reports)::integer
$$;
revoke all on function app_private.playback_metrics() from public, anon, authenticated;
comment on function app_private.playback_metrics() is
  'Figures for /metrics (trollcity_playback_*).';
