create or replace function app_private.add_job(task text, payload json, run_at timestamptz, job_key text, queue_name text default null) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  if to_regnamespace('graphile_worker') is null then
    raise exception 'graphile_worker is not installed: start the worker once (npm start or npm run worker)' using errcode = 'CONFG';
  end if;
  perform graphile_worker.add_job(task, payload, queue_name, run_at, 25, job_key);
end;
$$;
revoke all on function app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) from public, anon, authenticated;
comment on function app_private.add_job(task text, payload json, run_at timestamp with time zone, job_key text, queue_name text) is
  'Enqueue a graphile-worker job (replacing a pending one with the same key; jobs of one named queue run one at a time). CONFG when the worker schema is missing.';
