-- The coin pack catalogue is public (the wallet page lists the active packs); only the operator edits it.
drop policy if exists select_active on app_public.coin_packs;
create policy select_active on app_public.coin_packs for select
  using (active);
revoke all on table app_public.coin_packs from public, anon, authenticated;
grant select on table app_public.coin_packs to anon, authenticated;
