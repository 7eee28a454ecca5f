create or replace function app_private.tg__append_only() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  raise exception '%.% is append-only: % is not allowed (reverse with new entries instead)',
    tg_table_schema, tg_table_name, lower(tg_op) using errcode = 'DENYD';
end;
$$;
revoke all on function app_private.tg__append_only() from public, anon, authenticated;
comment on function app_private.tg__append_only() is
  'Rejects UPDATE/DELETE/TRUNCATE on ledger tables; corrections are new, reversing entries.';
