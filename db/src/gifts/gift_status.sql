create or replace function app_private.gift_status(gift_ledger_id bigint, out status text, out batch_id bigint, out settled_at timestamptz)
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if exists (select 1 from app_private.gift_settlement_queue q where q.gift_ledger_id = gift_status.gift_ledger_id) then
    status := 'pending';
    return;
  end if;
  select i.outcome, i.batch_id, l.started_at into status, batch_id, settled_at
    from app_private.gift_batch_items i join app_public.gift_batch_logs l on l.id = i.batch_id
   where i.gift_ids @> gift_status.gift_ledger_id;
end;
$$;
revoke all on function app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) from public, anon, authenticated;
comment on function app_private.gift_status(gift_ledger_id bigint, OUT status text, OUT batch_id bigint, OUT settled_at timestamp with time zone) is
  'Status of one gift: pending while queued, else settled/failed with the batch (index lookup). Null status: no such gift.';
