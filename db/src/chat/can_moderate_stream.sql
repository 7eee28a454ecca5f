create or replace function app_hidden.can_moderate_stream(stream_id uuid) returns boolean
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
begin
  return exists (select 1 from app_public.streams s where s.id = can_moderate_stream.stream_id and s.broadcaster_id = v_uid)
      or exists (select 1 from app_public.users u where u.id = v_uid and u.role in ('moderator', 'admin'));
end;
$$;
revoke all on function app_hidden.can_moderate_stream(stream_id uuid) from public, anon, authenticated;
grant execute on function app_hidden.can_moderate_stream(stream_id uuid) to anon, authenticated;
comment on function app_hidden.can_moderate_stream(stream_id uuid) is
  'True when the caller is the stream''s broadcaster or a moderator/admin.';
