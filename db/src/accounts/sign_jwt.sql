create or replace function app_private.sign_jwt(user_id uuid) returns text
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_secret text;
  v_audience text;
  v_ttl integer;
  v_now bigint := floor(extract(epoch from now()));
  v_input text;
begin
  select max(value) filter (where key = 'jwt_secret'),
         max(value) filter (where key = 'jwt_audience'),
         max(value) filter (where key = 'jwt_ttl_seconds')::integer
    into v_secret, v_audience, v_ttl
    from app_private.settings;
  if v_secret is null then
    raise exception 'auth is not configured (the server sets the JWT secret at start)' using errcode = 'CONFG';
  end if;
  v_input := app_private.base64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8'))
    || '.' || app_private.base64url(convert_to(jsonb_build_object(
      'role', 'authenticated',
      'sub', user_id,
      'aud', v_audience,
      'iat', v_now,
      'exp', v_now + v_ttl
    )::text, 'UTF8'));
  return v_input || '.' || app_private.base64url(public.hmac(convert_to(v_input, 'UTF8'), convert_to(v_secret, 'UTF8'), 'sha256'));
end;
$$;
revoke all on function app_private.sign_jwt(user_id uuid) from public, anon, authenticated;
comment on function app_private.sign_jwt(user_id uuid) is
  'HS256 token for the API: role authenticated, sub = user id, short-lived.';
