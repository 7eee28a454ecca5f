-- Profiles are public: every viewer renders names and avatars next to chat and gifts.
drop policy if exists select_all on app_public.users;
create policy select_all on app_public.users for select
  using (true);
-- A user edits only their own profile (and only the columns granted below).
drop policy if exists update_self on app_public.users;
create policy update_self on app_public.users for update to authenticated
  using ((id = ( SELECT app_public.current_user_id() AS current_user_id)))
  with check ((id = ( SELECT app_public.current_user_id() AS current_user_id)));
revoke all on table app_public.users from public, anon, authenticated;
grant select on table app_public.users to anon, authenticated;
grant update (display_name, avatar_url, vehicle_status) on table app_public.users to authenticated;
