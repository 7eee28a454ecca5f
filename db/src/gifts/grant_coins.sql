create or replace function app_public.grant_coins(user_id uuid, coins integer, reason text) returns app_public.wallet_summary
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to grant coins' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin' and not u.is_banned) then
    raise exception 'only admins may grant coins' using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to grant coins' using errcode = 'BADIN';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 200);
  if coins is null or coins not between 1 and 10000000 then
    raise exception 'coins to grant must be between 1 and 10000000, got %', coins using errcode = 'BADIN';
  end if;
  perform app_private.issue_coins(grant_coins.user_id, grant_coins.coins, 'grant', null,
                                  format('by %s: %s', v_uid, btrim(reason)));
  select w.user_id, w.balance, w.updated_at into v_out from app_private.wallets w where w.user_id = grant_coins.user_id;
  return v_out;
end;
$$;
revoke all on function app_public.grant_coins(user_id uuid, coins integer, reason text) from public, anon, authenticated;
grant execute on function app_public.grant_coins(user_id uuid, coins integer, reason text) to authenticated;
comment on function app_public.grant_coins(user_id uuid, coins integer, reason text) is
  'Admins: issue coins to a user, with a reason kept in the ledger. Errors: NOAUT, DENYD (not an admin), BADIN, NOFND (no such user).';
