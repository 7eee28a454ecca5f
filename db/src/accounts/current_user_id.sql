create or replace function app_public.current_user_id() returns uuid
  language sql stable parallel safe
as $$
  select nullif(nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb ->> 'sub', '')::pg_catalog.uuid
$$;
revoke all on function app_public.current_user_id() from public, anon, authenticated;
grant execute on function app_public.current_user_id() to anon, authenticated;
comment on function app_public.current_user_id() is
  E'@behavior -queryField\nThe signed-in user''s id, from the verified JWT claims (`sub`); null when anonymous.';
