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
  -- The owner of every app object (schemas, tables, functions, graphile-worker's and
  -- graphile-migrate's schemas): not a superuser, so a SECURITY DEFINER function runs with no more
  -- than the app's own rights. BYPASSRLS because every app_public table forces row level security,
  -- and settlement, the relay and the worker read across users. Only a superuser may create it; a
  -- non-superuser DATABASE_URL owns the objects itself (db/tools.ts#ownerRole).
  if (select rolsuper from pg_roles where rolname = current_user) then
    if not exists (select 1 from pg_roles where rolname = 'trollcity_owner') then
      create role trollcity_owner nologin nosuperuser nocreatedb nocreaterole noinherit bypassrls;
    end if;
    alter role trollcity_owner nologin nosuperuser nocreatedb nocreaterole noinherit bypassrls;
  end if;
end
$$;

-- Timeouts, so a slow or stuck request cannot hold a connection (or a lock) for long. Role settings
-- apply to sessions that log in as the role: authenticator's cover every API request of our server;
-- anon's and authenticated's are what PostgREST applies when it switches role per request.
alter role authenticator set statement_timeout = '10s';
alter role authenticator set lock_timeout = '3s';
alter role authenticator set idle_in_transaction_session_timeout = '15s';
alter role anon set statement_timeout = '5s';
alter role anon set lock_timeout = '2s';
alter role authenticated set statement_timeout = '10s';
alter role authenticated set lock_timeout = '3s';
-- The owner's sessions (migrations, worker, relay, settlement): generous but bounded. The pools set
-- their own (core/database.ts OWNER_POOL_TIMEOUTS); these cover a DBA's `set role trollcity_owner`.
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trollcity_owner') then
    alter role trollcity_owner set statement_timeout = '120s';
    alter role trollcity_owner set idle_in_transaction_session_timeout = '60s';
  end if;
end
$$;

-- The server role: the group-commit batcher runs app_private.send_gifts / send_chat_messages as it.
-- Those take the sender id the server verified from each request's token, so no request role may
-- run them; authenticator (the server's login) switches to it with `set role` on its batch pool.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'trollcity_server') then
    create role trollcity_server nologin;
  end if;
  grant trollcity_server to authenticator;
end
$$;
