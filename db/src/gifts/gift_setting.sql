create or replace function app_private.gift_setting(key text, fallback integer) returns integer
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_value integer;
begin
  select s.value::integer into v_value from app_private.settings s where s.key = gift_setting.key;
  return coalesce(v_value, fallback);
end;
$$;
revoke all on function app_private.gift_setting(key text, fallback integer) from public, anon, authenticated;
comment on function app_private.gift_setting(key text, fallback integer) is
  'Integer gift setting from app_private.settings: gift_fee_bps (platform fee, basis points), gift_batch_size.';
