-- Gift economy invariants: coins conserved (wallets + pending holds + platform fees = coins issued),
-- no wallet negative, every ledger entry balanced, stats equal to aggregates recomputed from the
-- ledger. Zero rows: healthy. Each row names the broken invariant and the offending detail.
select invariant, detail from app_private.gift_audit();
