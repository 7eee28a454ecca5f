create or replace function app_private.tg__timestamps() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  new.created_at = (case when tg_op = 'INSERT' then now() else old.created_at end);
  new.updated_at = (case when tg_op = 'UPDATE' and old.updated_at >= now() then old.updated_at + interval '1 millisecond' else now() end);
  return new;
end;
$$;
revoke all on function app_private.tg__timestamps() from public, anon, authenticated;
comment on function app_private.tg__timestamps() is
  'Keeps created_at/updated_at honest whatever the client sends.';
