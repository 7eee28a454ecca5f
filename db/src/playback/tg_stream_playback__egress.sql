create or replace function app_private.tg_stream_playback__egress() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_cfg app_private.playback_settings;
  v_id uuid;
begin
  if new.pending = 'to_hls' and old.pending is distinct from 'to_hls'
     and app_private.stream_needs_egress(new.stream_id, new.hls_provider) then
    -- Going viral: the worker starts a LiveKit egress; the health check waits until it is active.
    select * into v_cfg from app_private.playback_settings;
    if v_cfg.egress_target = 'origin' and new.hls_provider is null then
      new.hls_provider := 'origin';
      new.origin_path := null; -- origin_path_template: where the egress writes its playlist
    end if;
    insert into app_private.stream_egresses (stream_id, target) values (new.stream_id, v_cfg.egress_target)
      on conflict (stream_id) where state in ('requested', 'starting', 'active', 'retrying') do nothing
      returning id into v_id;
    if v_id is not null then
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_id), now(),
        'stream_egresses__run:' || v_id, 'egress:' || new.stream_id);
    end if;
  elsif new.mode = 'stage' and ((old.mode = 'hls') or (old.pending = 'to_hls' and new.pending is distinct from 'to_hls')) then
    -- Back on the stage (or the switch to HLS was cancelled): the egress has nothing left to do.
    perform app_private.stop_stream_egresses(new.stream_id, 'back on the stage');
  end if;
  return new;
end;
$$;
revoke all on function app_private.tg_stream_playback__egress() from public, anon, authenticated;
comment on function app_private.tg_stream_playback__egress() is
  'Starts a LiveKit egress (through the stream_egresses__run job) when a stream without its own HLS source is asked to go viral, and stops it when viewers are back on the stage.';
