create or replace function app_public.unban_user(stream_id uuid, user_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.moderation_target(stream_id, user_id);
  delete from app_public.stream_bans b where b.stream_id = unban_user.stream_id and b.user_id = unban_user.user_id;
  if not found then
    return false;
  end if;
  perform app_private.log_moderation(stream_id, 'unban', user_id, null);
  return true;
end;
$$;
revoke all on function app_public.unban_user(stream_id uuid, user_id uuid) from public, anon, authenticated;
grant execute on function app_public.unban_user(stream_id uuid, user_id uuid) to authenticated;
comment on function app_public.unban_user(stream_id uuid, user_id uuid) is
  'Lifts a stream ban; false when the user was not banned. Errors: NOAUT, NOFND, DENYD.';
