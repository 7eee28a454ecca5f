create or replace function app_private.stop_stream_egresses(stream_id uuid, reason text) returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_row app_private.stream_egresses;
  v_n integer := 0;
begin
  for v_row in
    update app_private.stream_egresses e
       set state = case when e.egress_id is null then 'stopped' else 'stopping' end,
           stop_reason = stop_stream_egresses.reason,
           ended_at = case when e.egress_id is null then now() end,
           next_attempt_at = null
     where e.stream_id = stop_stream_egresses.stream_id and e.state in ('requested', 'starting', 'active', 'retrying')
    returning e.*
  loop
    v_n := v_n + 1;
    if v_row.state = 'stopping' and to_regnamespace('graphile_worker') is not null then
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now(),
        'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
    end if;
  end loop;
  return v_n;
end;
$$;
revoke all on function app_private.stop_stream_egresses(stream_id uuid, reason text) from public, anon, authenticated;
comment on function app_private.stop_stream_egresses(stream_id uuid, reason text) is
  'Asks the worker to stop every open egress of a stream (switched back to the stage, stream ended). Returns how many.';
