create or replace function app_hidden.playback_health_rows()
  returns table (stream_id uuid, title text, status text, hls_provider text, mode text, pending text, pending_reason text,
                 attempts integer, check_due_at timestamptz, last_check_at timestamptz, last_check_ok boolean,
                 last_check_url text, last_error text, alerting boolean, failure_reports integer, failure_reports_5m integer)
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
 SELECT p.stream_id,
    s.title,
    s.status,
    p.hls_provider,
    p.mode,
    p.pending,
    p.pending_reason,
    p.attempts,
    p.check_due_at,
    p.last_check_at,
    p.last_check_ok,
    p.last_check_url,
    p.last_error,
    COALESCE(p.last_check_ok = false, false) AS alerting,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id))::integer AS failure_reports,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id AND r.reported_at > (pg_catalog.now() - '00:05:00'::interval)))::integer AS failure_reports_5m
   FROM app_private.stream_playback p
     JOIN app_public.streams s ON s.id = p.stream_id
  WHERE s.broadcaster_id = app_public.current_user_id()
     OR (EXISTS ( SELECT 1
           FROM app_public.users u
          WHERE u.id = app_public.current_user_id() AND u.role = 'admin'::app_public.app_role))
$$;
revoke all on function app_hidden.playback_health_rows() from public, anon, authenticated;
grant execute on function app_hidden.playback_health_rows() to authenticated;
comment on function app_hidden.playback_health_rows() is
  'The rows of app_public.playback_health: SECURITY DEFINER (they come from app_private), every stream for an admin caller, the caller''s own streams for a broadcaster, no rows otherwise.';
