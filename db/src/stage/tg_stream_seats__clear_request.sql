create or replace function app_private.tg_stream_seats__clear_request() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  delete from app_public.stream_seat_requests r where r.stream_id = new.stream_id and r.user_id = new.user_id;
  return null;
end;
$$;
revoke all on function app_private.tg_stream_seats__clear_request() from public, anon, authenticated;
comment on function app_private.tg_stream_seats__clear_request() is
  'An invitation answers a request to join the stage: the request goes (its seat event, invited, tells the clients).';
