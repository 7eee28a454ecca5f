create or replace function app_private.clear_presence(node_id text) returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  delete from app_private.presence_counts p where p.node_id = clear_presence.node_id;
$$;
revoke all on function app_private.clear_presence(node_id text) from public, anon, authenticated;
comment on function app_private.clear_presence(node_id text) is
  'A Node process shutting down removes its presence rows.';
