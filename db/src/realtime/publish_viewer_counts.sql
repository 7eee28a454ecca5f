create or replace function app_private.publish_viewer_counts() returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_n int;
begin
  update app_private.relay_state set counts_at = now() where counts_at <= now() - interval '1 second';
  if not found then
    -- relay_state is UNLOGGED: crash recovery empties it, and then its row comes back here. (Not one
    -- upsert: ON CONFLICT DO UPDATE locks the row, and so takes a transaction id, on every relay tick.)
    if not app_private.restore_relay_state() then
      return 0;
    end if;
    update app_private.relay_state set counts_at = now();
  end if;
  delete from app_private.presence_counts p where p.updated_at < now() - interval '30 seconds';
  with live as (
    select p.stream_id, sum(p.viewers)::int as viewers
      from app_private.presence_counts p
     where p.updated_at > now() - interval '15 seconds'
     group by p.stream_id
  ), changed as (
    select coalesce(l.stream_id, v.stream_id) as stream_id, coalesce(l.viewers, 0) as viewers
      from live l
      full join app_private.stream_viewer_counts v on v.stream_id = l.stream_id
     where coalesce(l.viewers, 0) is distinct from v.viewers
  ), saved as (
    insert into app_private.stream_viewer_counts as v (stream_id, viewers, published_at)
    select c.stream_id, c.viewers, now() from changed c
    on conflict (stream_id) do update set viewers = excluded.viewers, published_at = excluded.published_at
    returning v.stream_id, v.viewers
  )
  insert into app_private.stream_events (stream_id, kind, payload)
  select s.stream_id, 'viewer_count', jsonb_build_object('viewers', s.viewers) from saved s;
  get diagnostics v_n = row_count;
  delete from app_private.stream_viewer_counts v where v.viewers = 0 and v.published_at < now() - interval '1 minute';
  return v_n;
end;
$$;
revoke all on function app_private.publish_viewer_counts() from public, anon, authenticated;
comment on function app_private.publish_viewer_counts() is
  'Turns fresh presence counts into viewer_count events for streams whose count changed; at most once per second.';
