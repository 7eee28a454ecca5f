create or replace function app_private.claim_hls_checks(lease_seconds integer default 30, max_rows integer default 100)
returns table (stream_id uuid, pending text)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  -- A stream that ended has nothing left to switch.
  update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
    from app_public.streams s
   where s.id = p.stream_id and s.status <> 'live' and p.pending is not null;
  return query
    with due as (
      select p.stream_id from app_private.stream_playback p
       where p.check_due_at <= now()
         -- A switch to HLS whose egress is not active yet waits for it (record_egress makes it due).
         and not (p.pending = 'to_hls' and exists (
               select 1 from app_private.stream_egresses e
                where e.stream_id = p.stream_id and e.state in ('requested', 'starting', 'retrying')))
       order by p.check_due_at
       limit max_rows
       for update skip locked
    )
    update app_private.stream_playback p
       set check_due_at = now() + make_interval(secs => lease_seconds)
      from due
     where p.stream_id = due.stream_id
    returning p.stream_id, p.pending;
end;
$$;
revoke all on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) from public, anon, authenticated;
comment on function app_private.claim_hls_checks(lease_seconds integer, max_rows integer) is
  'Due checks for the worker (streams__viral_tick enqueues one streams__check_hls job each); leased, not removed.';
