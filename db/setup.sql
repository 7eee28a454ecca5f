-- Cluster-wide roles, created idempotently by the setup step (db/tools.ts) before migrations run,
-- against the embedded database or the one DATABASE_URL names. Names are the ones PostgREST,
-- splinter and existing clients expect. Needs a superuser or a role with CREATEROLE; the setup step
-- then sets authenticator's password from AUTHENTICATOR_PASSWORD.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  grant anon to authenticator;
  grant authenticated to authenticator;
end
$$;
