create or replace function app_public.set_vehicle_status(status text) returns app_public.users
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to set a vehicle status' using errcode = 'NOAUT';
  end if;
  status := app_hidden.clean_line(status, 'vehicle status', 40, 0);
  update app_public.users u set vehicle_status = status where u.id = app_public.current_user_id()
    returning * into v_user;
  return v_user;
end;
$$;
revoke all on function app_public.set_vehicle_status(status text) from public, anon, authenticated;
grant execute on function app_public.set_vehicle_status(status text) to authenticated;
comment on function app_public.set_vehicle_status(status text) is
  'Sets (or clears, with null/empty) the caller''s vehicle status shown in chat. Errors: NOAUT, BADIN.';
