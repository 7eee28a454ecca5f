create or replace function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) returns void
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  if jwt_secret is null or char_length(jwt_secret) < 32 then
    raise exception 'JWT secret must be at least 32 characters' using errcode = 'BADIN';
  end if;
  if jwt_ttl_seconds is null or jwt_ttl_seconds not between 60 and 86400 then
    raise exception 'JWT lifetime must be between 60 and 86400 seconds, got %', jwt_ttl_seconds using errcode = 'BADIN';
  end if;
  insert into app_private.settings (key, value)
  values ('jwt_secret', jwt_secret), ('jwt_audience', jwt_audience), ('jwt_ttl_seconds', jwt_ttl_seconds::text)
  on conflict (key) do update set value = excluded.value;
end;
$$;
revoke all on function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) from public, anon, authenticated;
comment on function app_private.configure_auth(jwt_secret text, jwt_audience text, jwt_ttl_seconds integer) is
  'Called by the server at start with its validated config.';
