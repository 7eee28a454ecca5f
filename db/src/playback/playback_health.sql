-- security_invoker: the view itself never runs as its owner (splinter's security_definer_view); the
-- privileged read is app_hidden.playback_health_rows(), a SECURITY DEFINER function that checks the caller
-- (admins: every stream; a broadcaster: their own).
create or replace view app_public.playback_health with (security_invoker=true) as
 SELECT h.stream_id, h.title, h.status, h.hls_provider, h.mode, h.pending, h.pending_reason, h.attempts, h.check_due_at,
    h.last_check_at, h.last_check_ok, h.last_check_url, h.last_error, h.alerting, h.failure_reports, h.failure_reports_5m
   FROM app_hidden.playback_health_rows() h(stream_id, title, status, hls_provider, mode, pending, pending_reason, attempts, check_due_at, last_check_at, last_check_ok, last_check_url, last_error, alerting, failure_reports, failure_reports_5m);
revoke all on table app_public.playback_health from public, anon, authenticated;
grant select on table app_public.playback_health to authenticated;
comment on view app_public.playback_health is
  'Admins (every stream) and each broadcaster (their own streams): playback state per stream, last health check and why it failed (alerting), failure reports from players.';
comment on column app_public.playback_health.alerting is 'The last health check failed: viewers were kept on the current path; the worker retries.';
