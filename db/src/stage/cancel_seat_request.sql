create or replace function app_public.cancel_seat_request(stream_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
begin
  delete from app_public.stream_seat_requests r where r.stream_id = cancel_seat_request.stream_id and r.user_id = v_me.id;
  if not found then
    return false;
  end if;
  perform app_private.publish_stream_event(cancel_seat_request.stream_id, 'seat', jsonb_build_object(
    'action', 'request_cancelled',
    'request', jsonb_build_object('stream_id', cancel_seat_request.stream_id, 'user_id', v_me.id),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return true;
end;
$$;
revoke all on function app_public.cancel_seat_request(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.cancel_seat_request(stream_id uuid) to authenticated;
comment on function app_public.cancel_seat_request(stream_id uuid) is
  'Withdraws the caller''s request to join the stage (a seat event with action request_cancelled); false when there was none. Errors: NOAUT, BANND.';
