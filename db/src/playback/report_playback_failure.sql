create or replace function app_public.report_playback_failure(stream_id uuid, path text, url text default null, reason text default null)
returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_cfg app_private.playback_settings;
  v_state app_private.stream_playback;
  v_recent integer;
begin
  if path is null or path not in ('hls', 'stage') then
    raise exception 'path must be hls or stage (got "%")', path using errcode = 'BADIN';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = report_playback_failure.stream_id) then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  -- Anyone may report (anonymous viewers too), so the table is bounded: at most 60 reports per
  -- stream per minute are kept (more say nothing new; the answer is then false), and reports older
  -- than 10 minutes are pruned as new ones arrive.
  delete from app_private.playback_failure_reports r
   where r.stream_id = report_playback_failure.stream_id and r.reported_at < now() - interval '10 minutes';
  if (select count(*) from app_private.playback_failure_reports r
       where r.stream_id = report_playback_failure.stream_id and r.reported_at > now() - interval '1 minute') >= 60 then
    return false;
  end if;
  insert into app_private.playback_failure_reports (stream_id, path, url, reason, reporter_id)
    values (report_playback_failure.stream_id, path, left(app_hidden.strip_hidden(url), 2000), left(app_hidden.strip_hidden(reason), 500), app_public.current_user_id());
  -- Many HLS failures on a stream that is on HLS: have the worker verify the URL (alerts if broken).
  if path = 'hls' then
    select * into v_state from app_private.stream_playback p where p.stream_id = report_playback_failure.stream_id;
    if v_state.mode = 'hls' and v_state.pending is null then
      select * into v_cfg from app_private.playback_settings;
      select count(*) into v_recent from app_private.playback_failure_reports r
       where r.stream_id = report_playback_failure.stream_id and r.path = 'hls' and r.reported_at > now() - interval '1 minute';
      if v_recent >= v_cfg.verify_after_failures then
        update app_private.stream_playback p
           set pending = 'verify', pending_reason = 'failures', check_due_at = now(), attempts = 0
         where p.stream_id = report_playback_failure.stream_id and p.pending is null;
      end if;
    end if;
  end if;
  return true;
end;
$$;
revoke all on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) from public, anon, authenticated;
grant execute on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) to anon, authenticated;
comment on function app_public.report_playback_failure(stream_id uuid, path text, url text, reason text) is
  'A player reports that a path failed (fatal HLS error, playlist 404, stage failure). Counted per stream (at most 60 kept per minute: false when this one was not kept); many HLS failures trigger a re-check. Errors: BADIN, NOFND.';
