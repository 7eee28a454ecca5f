create or replace view app_public.playback_health with (security_barrier=true) as
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
          WHERE r.stream_id = p.stream_id AND r.reported_at > (now() - '00:05:00'::interval)))::integer AS failure_reports_5m
   FROM app_private.stream_playback p
     JOIN app_public.streams s ON s.id = p.stream_id
  WHERE ((s.broadcaster_id = app_public.current_user_id()) OR (EXISTS ( SELECT 1
           FROM app_public.users u
          WHERE u.id = app_public.current_user_id() AND u.role = 'admin'::app_public.app_role)));
revoke all on table app_public.playback_health from public, anon, authenticated;
grant select on table app_public.playback_health to authenticated;
comment on view app_public.playback_health is
  'Admins (every stream) and each broadcaster (their own streams): playback state per stream, last health check and why it failed (alerting), failure reports from players.';
comment on column app_public.playback_health.alerting is 'The last health check failed: viewers were kept on the current path; the worker retries.';
