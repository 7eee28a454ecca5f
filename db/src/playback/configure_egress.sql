create or replace function app_private.configure_egress(egress_target text) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  if egress_target is not null and egress_target not in ('mux', 'origin') then
    raise exception 'egress target must be mux, origin or null (got "%")', egress_target using errcode = 'BADIN';
  end if;
  update app_private.playback_settings s set egress_target = configure_egress.egress_target;
end;
$$;
revoke all on function app_private.configure_egress(egress_target text) from public, anon, authenticated;
comment on function app_private.configure_egress(egress_target text) is
  'Called by the server at start: where a stream going viral is sent by a LiveKit egress (mux: RTMP to a Mux live stream; origin: HLS segments to the origin; null: no egress, HLS sources are configured per stream).';
