create or replace function app_private.egress_metrics() returns table (active integer, starting integer, failed integer, failures integer)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select (select count(*) from app_private.stream_egresses where state = 'active')::integer,
         (select count(*) from app_private.stream_egresses where state in ('requested', 'starting', 'retrying'))::integer,
         (select count(*) from app_private.stream_egresses where state = 'failed')::integer,
         (select coalesce(sum(e.failures), 0) from app_private.stream_egresses e)::integer
$$;
revoke all on function app_private.egress_metrics() from public, anon, authenticated;
comment on function app_private.egress_metrics() is
  'Figures for /metrics (trollcity_egress_*).';
