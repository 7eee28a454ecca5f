-- The catalogue is public (inactive gifts too: old ledger entries and receipts still name them).
drop policy if exists select_all on app_public.gifts;
create policy select_all on app_public.gifts for select
  using (true);
revoke all on table app_public.gifts from public, anon, authenticated;
grant select on table app_public.gifts to anon, authenticated;
