create or replace function app_private.flush_presence(node_id text, counts jsonb) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into app_private.presence_counts as p (node_id, stream_id, viewers, updated_at)
  select flush_presence.node_id, c.key::uuid, c.value::int, now()
    from jsonb_each_text(coalesce(counts, '{}')) c
  on conflict on constraint presence_counts_pkey do update set viewers = excluded.viewers, updated_at = excluded.updated_at;
  delete from app_private.presence_counts p
   where p.node_id = flush_presence.node_id and not (coalesce(counts, '{}') ? p.stream_id::text);
end;
$$;
revoke all on function app_private.flush_presence(node_id text, counts jsonb) from public, anon, authenticated;
comment on function app_private.flush_presence(node_id text, counts jsonb) is
  'A Node process reports its live connections per stream ({"<stream id>": n}); streams it no longer serves are removed. Called every few seconds, also as a liveness signal.';
