-- Who sits on stage is public; invitations and past seats are seen by the guest and the stage managers.
drop policy if exists select_visible on app_public.stream_seats;
create policy select_visible on app_public.stream_seats for select
  using (((status = 'active'::text) OR (user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_seats.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = ANY (ARRAY['moderator'::app_public.app_role, 'admin'::app_public.app_role])))))));
revoke all on table app_public.stream_seats from public, anon, authenticated;
grant select on table app_public.stream_seats to anon, authenticated;
