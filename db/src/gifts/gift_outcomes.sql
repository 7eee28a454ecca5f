create or replace view app_private.gift_outcomes as
 SELECT s.id AS gift_ledger_id,
    i.batch_id,
    i.outcome,
    l.started_at AS settled_at
   FROM app_private.gift_batch_items i
     JOIN app_public.gift_batch_logs l ON l.id = i.batch_id
     CROSS JOIN LATERAL unnest(i.gift_ids) r(ids)
     CROSS JOIN LATERAL generate_series(lower(r.ids), upper(r.ids) - 1) s(id);
revoke all on table app_private.gift_outcomes from public, anon, authenticated;
comment on view app_private.gift_outcomes is
  'Every gift a settlement batch took, with its outcome (settled or failed) and the batch''s start time.';
