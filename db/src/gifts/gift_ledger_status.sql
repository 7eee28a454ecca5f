create or replace view app_private.gift_ledger_status as
 SELECT g.id,
    g.sender_id,
    g.receiver_id,
    g.stream_id,
    g.gift_id,
    g.quantity,
    g.unit_price,
    g.coins,
    g.fee_coins,
    g.idempotency_key,
    g.created_at,
        CASE
            WHEN q.gift_ledger_id IS NOT NULL THEN 'pending'::text
            ELSE o.outcome
        END AS status,
    o.batch_id,
    o.settled_at
   FROM app_private.gift_ledger g
     LEFT JOIN app_private.gift_settlement_queue q ON q.gift_ledger_id = g.id
     LEFT JOIN app_private.gift_outcomes o ON o.gift_ledger_id = g.id;
revoke all on table app_private.gift_ledger_status from public, anon, authenticated;
comment on view app_private.gift_ledger_status is
  'The ledger with each gift''s status (pending, settled, failed), batch and settlement time. Scans all batches: for one gift use gift_status(id).';
