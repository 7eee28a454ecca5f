-- Batch health is operational data: admins only.
drop policy if exists select_as_admin on app_public.gift_batch_logs;
create policy select_as_admin on app_public.gift_batch_logs for select to authenticated
  using ((EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = 'admin'::app_public.app_role)))));
revoke all on table app_public.gift_batch_logs from public, anon, authenticated;
grant select on table app_public.gift_batch_logs to authenticated;
