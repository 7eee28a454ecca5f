--! Previous: sha1:622e17a9c2bccd58f8c8ee469a184fdc4f5e1516
--! Hash: sha1:76a51f6102db75993f20bfb4fde900f33486ca41
--! Message: Hardening: bounded playback failure reports, origin paths bound to their stream

--! split: 150-hardening.sql
-- Hardening from outside (issue 15, findings 5 and 6): anonymous playback failure reports are
-- bounded and pruned; an origin path belongs to its own stream.
--! Included playback/report_playback_failure.sql
create or replace function app_public.report_playback_failure(stream_id uuid, path text, url text default null, reason text default null)
returns boolean
  language plpgsql volatile
  security definer
  set search_path = ''
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
    values (report_playback_failure.stream_id, path, left(url, 2000), left(reason, 500), app_public.current_user_id());
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
--! EndIncluded playback/report_playback_failure.sql
--! Included playback/configure_stream_playback.sql
create or replace function app_public.configure_stream_playback(
  stream_id uuid,
  hls_provider text,
  mux_playback_id text default null,
  origin_path text default null
) returns app_public.playback_state
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_state app_private.stream_playback;
begin
  if v_uid is null then
    raise exception 'sign in to configure playback' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = configure_stream_playback.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may configure playback of stream %', stream_id using errcode = 'DENYD';
  end if;
  if hls_provider is not null and hls_provider not in ('mux', 'cdn', 'origin') then
    raise exception 'HLS provider must be mux, cdn or origin (got "%")', hls_provider using errcode = 'BADIN';
  end if;
  if hls_provider = 'mux' and (mux_playback_id is null or mux_playback_id !~ '^[A-Za-z0-9]{1,64}$') then
    raise exception 'a Mux playback id (1-64 letters and digits) is required for provider mux' using errcode = 'BADIN';
  end if;
  if origin_path is not null and origin_path !~ '^/[^\s?#]*\.m3u8$' then
    raise exception 'origin path must start with / and end with .m3u8 (got "%")', origin_path using errcode = 'BADIN';
  end if;
  -- An origin path belongs to its stream: it names the stream's own id as a whole path segment (as
  -- the default /live/{stream_id}/index.m3u8 does), so no broadcaster can point viewers at another
  -- stream's playlist; no dot segments either.
  if origin_path is not null
     and (pg_catalog.strpos(origin_path, '/' || v_stream.id::text || '/') = 0
          and origin_path not like '%/' || v_stream.id::text || '.m3u8'
          or origin_path ~ '(^|/)\.\.?(/|$)' or pg_catalog.strpos(origin_path, '//') > 0) then
    raise exception 'origin path must name this stream''s id as a path segment, e.g. /live/%/index.m3u8 (got "%")', v_stream.id, origin_path
      using errcode = 'BADIN';
  end if;
  insert into app_private.stream_playback (stream_id) values (v_stream.id) on conflict do nothing;
  select * into v_state from app_private.stream_playback p where p.stream_id = v_stream.id for update;
  if v_state.mode = 'hls' or v_state.pending in ('to_hls', 'verify') then
    raise exception 'stream % is on (or switching to) HLS: switch it back to the stage before changing its HLS source', stream_id
      using errcode = 'CONFL';
  end if;
  update app_private.stream_playback p
     set hls_provider = configure_stream_playback.hls_provider,
         mux_playback_id = case when configure_stream_playback.hls_provider = 'mux' then configure_stream_playback.mux_playback_id end,
         origin_path = case when configure_stream_playback.hls_provider in ('cdn', 'origin') then configure_stream_playback.origin_path end,
         last_check_ok = null, last_check_url = null, last_error = null
   where p.stream_id = v_stream.id;
  return app_public.streams_playback(v_stream);
end;
$$;
revoke all on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) from public, anon, authenticated;
grant execute on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) to authenticated;
comment on function app_public.configure_stream_playback(stream_id uuid, hls_provider text, mux_playback_id text, origin_path text) is
  'Sets the stream''s HLS source: mux (playback id), cdn or origin (origin path, default from configuration), or null. Errors: NOAUT, NOFND, DENYD, BADIN, CONFL (on HLS now).';
--! EndIncluded playback/configure_stream_playback.sql
