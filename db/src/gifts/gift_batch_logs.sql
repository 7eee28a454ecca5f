create or replace function app_public.gift_batch_logs("limit" integer default 50) returns app_public.gift_batch_logs[]
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if not exists (select 1 from app_public.users u where u.id = app_public.current_user_id() and u.role = 'admin') then
    raise exception 'only admins may read gift batch logs' using errcode = 'DENYD';
  end if;
  if $1 is null or $1 not between 1 and 1000 then
    raise exception 'limit must be between 1 and 1000, got %', $1 using errcode = 'BADIN';
  end if;
  return array(select l from app_public.gift_batch_logs l order by l.id desc limit $1);
end;
$$;
revoke all on function app_public.gift_batch_logs("limit" integer) from public, anon, authenticated;
grant execute on function app_public.gift_batch_logs("limit" integer) to authenticated;
comment on function app_public.gift_batch_logs("limit" integer) is
  E'@name giftBatchLogs\nAdmins: the most recent settlement batches, newest first (batch health). Errors: DENYD, BADIN.';
