-- splinter 0019 insecure_queue_exposed_in_api, for graphile-worker: request roles must not reach the
-- job queue (they could enqueue or read jobs); jobs are added only through app_private.add_job.
select 'insecure_queue_exposed' as rule, 'ERROR' as level, 'schema ' || n.nspname as object, r.rolname || ' has USAGE' as detail
  from pg_namespace n
  cross join (values ('anon'), ('authenticated'), ('authenticator')) r(rolname)
 where n.nspname = 'graphile_worker' and has_schema_privilege(r.rolname, n.oid, 'usage');
