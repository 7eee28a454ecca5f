create or replace function app_private.checkout_pack(user_id uuid, pack_slug text) returns app_public.coin_packs
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_pack app_public.coin_packs;
begin
  select u.* into v_user from app_public.users u where u.id = checkout_pack.user_id;
  if v_user.id is null then
    raise exception 'sign in to buy coins' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  select p.* into v_pack from app_public.coin_packs p where p.slug = checkout_pack.pack_slug and p.active;
  if v_pack.id is null then
    raise exception 'coin pack "%" is not on sale', pack_slug using errcode = 'NOFND';
  end if;
  return v_pack;
end;
$$;
revoke all on function app_private.checkout_pack(user_id uuid, pack_slug text) from public, anon, authenticated;
comment on function app_private.checkout_pack(user_id uuid, pack_slug text) is
  'The active coin pack a signed-in, unbanned user may buy (the server then opens a Stripe Checkout Session). Errors: NOAUT, BANND, NOFND.';
