-- The `tests` helper schema: installed only in test databases (by test/run.ts), never by migrations.
-- pgTAP lives in schema `tap`; test files run with search_path = public, tap, tests.
create schema if not exists tests;
grant usage on schema tests to public;
-- Test files keep their fixtures in tables created here inside their transaction (rolled back), also
-- while acting as a request role: those roles have no TEMP on an app database.
grant create on schema tests to public;

-- Create a user (cheap password hash: tests need speed, not bcrypt's cost) and return its id.
create or replace function tests.create_user(username text, role app_public.app_role default 'viewer') returns uuid
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_id uuid;
begin
  insert into app_public.users (username, display_name, role) values (username, username, role) returning id into v_id;
  insert into app_private.user_secrets (user_id, email, password_hash)
    values (v_id, username || '@test.invalid', public.crypt('password', public.gen_salt('bf', 4)));
  return v_id;
end;
$$;

-- Act as a signed-in user for the rest of the transaction, exactly as PostGraphile/PostgREST would.
create or replace function tests.act_as(user_id uuid) returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform set_config('request.jwt.claims', jsonb_build_object('role', 'authenticated', 'sub', user_id)::text, true);
  execute 'set local role authenticated';
end;
$$;

-- Act as an anonymous visitor.
create or replace function tests.act_as_anon() returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform set_config('request.jwt.claims', '{"role":"anon"}', true);
  execute 'set local role anon';
end;
$$;

-- Back to the test's superuser (the owner).
create or replace function tests.act_as_owner() returns void
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  execute 'reset role';
  perform set_config('request.jwt.claims', '', true);
end;
$$;

-- Run a statement as the current role and return how many rows it touched (UPDATE/DELETE/INSERT).
create or replace function tests.row_count(statement text) returns integer
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_rows integer;
begin
  execute statement;
  get diagnostics v_rows = row_count;
  return v_rows;
end;
$$;

grant execute on all functions in schema tests to public;
