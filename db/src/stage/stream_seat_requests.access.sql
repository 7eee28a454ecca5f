-- A request to join the stage is seen by the viewer who made it and the stage managers.
drop policy if exists select_own_or_manager on app_public.stream_seat_requests;
create policy select_own_or_manager on app_public.stream_seat_requests for select
  using (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_seat_requests.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = ANY (ARRAY['moderator'::app_public.app_role, 'admin'::app_public.app_role])))))));
revoke all on table app_public.stream_seat_requests from public, anon, authenticated;
grant select on table app_public.stream_seat_requests to authenticated;
