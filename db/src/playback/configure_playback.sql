create or replace function app_private.configure_playback(
  origin_base_url text,
  cdn_base_url text,
  mux_base_url text default null,
  origin_path_template text default null,
  viral_enter_viewers integer default null,
  viral_exit_viewers integer default null
) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_old app_private.playback_settings;
  v_new app_private.playback_settings;
begin
  select * into v_old from app_private.playback_settings for update;
  update app_private.playback_settings s set
    origin_base_url = nullif(rtrim(configure_playback.origin_base_url, '/'), ''),
    cdn_base_url = nullif(rtrim(configure_playback.cdn_base_url, '/'), ''),
    mux_base_url = coalesce(nullif(rtrim(configure_playback.mux_base_url, '/'), ''), s.mux_base_url),
    origin_path_template = coalesce(configure_playback.origin_path_template, s.origin_path_template),
    viral_enter_viewers = coalesce(configure_playback.viral_enter_viewers, s.viral_enter_viewers),
    viral_exit_viewers = coalesce(configure_playback.viral_exit_viewers, s.viral_exit_viewers)
  returning * into v_new;
  -- A stream already on HLS may now have another URL: verify it (viewers stay where they are).
  if (v_old.origin_base_url, v_old.cdn_base_url, v_old.mux_base_url, v_old.origin_path_template)
     is distinct from (v_new.origin_base_url, v_new.cdn_base_url, v_new.mux_base_url, v_new.origin_path_template) then
    update app_private.stream_playback p
       set pending = 'verify', pending_reason = 'config', check_due_at = now(), attempts = 0
     where p.mode = 'hls' and p.pending is null;
  end if;
exception
  when check_violation then
    raise exception 'invalid playback settings: %', sqlerrm using errcode = 'BADIN';
end;
$$;
revoke all on function app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) from public, anon, authenticated;
comment on function app_private.configure_playback(origin_base_url text, cdn_base_url text, mux_base_url text, origin_path_template text, viral_enter_viewers integer, viral_exit_viewers integer) is
  'Called by the server at start with PLAYBACK_* config. Null keeps the current value (origin and CDN: null clears).';
