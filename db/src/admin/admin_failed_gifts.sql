create or replace function app_public.admin_failed_gifts()
  returns setof app_public.failed_gift
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  return query
    select g.id, g.created_at, g.status, g.batch_id, sn.username, rc.username, g.coins
      from app_private.gift_ledger_status g
      left join app_public.users sn on sn.id = g.sender_id
      left join app_public.users rc on rc.id = g.receiver_id
     where g.status is distinct from 'settled' and g.status is distinct from 'pending'
     order by g.id desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_failed_gifts() from public, anon, authenticated;
grant execute on function app_public.admin_failed_gifts() to authenticated;
comment on function app_public.admin_failed_gifts() is
  'Admins: the newest gifts settlement did not settle (refunded to the sender); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';
