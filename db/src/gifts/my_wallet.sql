create or replace function app_public.my_wallet() returns app_public.wallet_summary
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to see your wallet' using errcode = 'NOAUT';
  end if;
  select v_uid, coalesce(w.balance, 0), w.updated_at into v_out
    from (select 1) one left join app_private.wallets w on w.user_id = v_uid;
  return v_out;
end;
$$;
revoke all on function app_public.my_wallet() from public, anon, authenticated;
grant execute on function app_public.my_wallet() to authenticated;
comment on function app_public.my_wallet() is
  'The signed-in user''s coin balance (0 without a wallet). Errors: NOAUT.';
