create or replace function app_private.tg_users__identity() returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  insert into app_private.user_identities (user_id, role, is_banned, sender, updated_at)
  values (new.id, new.role, new.is_banned, jsonb_build_object(
    'id', new.id,
    'username', new.username,
    'display_name', new.display_name,
    'avatar_url', new.avatar_url,
    'role', new.role,
    'vehicle_status', new.vehicle_status
  ), now())
  on conflict (user_id) do update
    set role = excluded.role, is_banned = excluded.is_banned, sender = excluded.sender, updated_at = excluded.updated_at;
  return null;
end;
$$;
revoke all on function app_private.tg_users__identity() from public, anon, authenticated;
comment on function app_private.tg_users__identity() is
  'Keeps app_private.user_identities in step with app_public.users. SECURITY DEFINER: a user editing their own profile (authenticated, no access to app_private) fires it too.';
