-- Fixes after merging the web app (accounts, coins, admin) with the studio and the security work.
-- Re-runnable.

-- Foreign keys of the web accounts tables get an index of their own (lint: unindexed_foreign_keys;
-- wallet_debts_open_idx is partial, so it does not serve the foreign key's checks).
create index if not exists checkout_sessions_pack_id_idx on app_private.checkout_sessions (pack_id);
create index if not exists wallet_debts_user_id_idx on app_private.wallet_debts (user_id);

-- Spending is private (finding 8) for gifter_stats too: the public gifter leaderboard is the current
-- period's top list through a SECURITY DEFINER function, like app_public.leaderboard().
--!include gifts/gifter_stats.access.sql
--!include gifts/gifter_leaderboard.sql
