create or replace function app_public.admin_users(search text default null)
  returns setof app_public.admin_user
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  if char_length(search) > 100 then
    raise exception 'search must be at most 100 characters' using errcode = 'BADIN';
  end if;
  return query
    select u.id, u.username, u.display_name, s.email, u.role, u.is_banned, coalesce(w.balance, 0)::bigint, u.created_at
      from app_public.users u
      left join app_private.user_secrets s on s.user_id = u.id
      left join app_private.wallets w on w.user_id = u.id
     where coalesce(btrim(search), '') = ''
        or u.username ilike '%' || btrim(search) || '%'
        or u.display_name ilike '%' || btrim(search) || '%'
        or s.email ilike '%' || btrim(search) || '%'
     order by u.username
     limit 100;
end;
$$;
revoke all on function app_public.admin_users(search text) from public, anon, authenticated;
grant execute on function app_public.admin_users(search text) to authenticated;
comment on function app_public.admin_users(search text) is
  'Admins: users whose username, display name or e-mail contains `search` (all when empty), with role, ban and balance; at most 100. Errors: NOAUT, BANND, DENYD, BADIN.';
