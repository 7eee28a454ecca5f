create or replace view app_private.coin_entries as
 SELECT 'coin_transaction'::text AS source,
    t.id,
    t.kind,
    t.created_at,
    t.debit_account AS account,
    t.debit_user_id AS user_id,
    - t.amount AS amount
   FROM app_private.coin_transactions t
UNION ALL
 SELECT 'coin_transaction'::text AS source,
    t.id,
    t.kind,
    t.created_at,
    t.credit_account AS account,
    t.credit_user_id AS user_id,
    t.amount
   FROM app_private.coin_transactions t
UNION ALL
 SELECT 'gift_hold'::text AS source,
    g.id,
    'gift_hold'::text AS kind,
    g.created_at,
    'user'::text AS account,
    g.sender_id AS user_id,
    - g.coins AS amount
   FROM app_private.gift_ledger g
UNION ALL
 SELECT 'gift_hold'::text AS source,
    g.id,
    'gift_hold'::text AS kind,
    g.created_at,
    'escrow'::text AS account,
    NULL::uuid AS user_id,
    g.coins AS amount
   FROM app_private.gift_ledger g;
revoke all on table app_private.coin_entries from public, anon, authenticated;
comment on view app_private.coin_entries is
  'Double-entry view of all coin movements: every movement is two entries summing to zero.';
