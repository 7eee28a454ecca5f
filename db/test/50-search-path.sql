-- Security: pinned search_path (pg_catalog, pg_temp) on every function, no TEMP for request roles, and
-- the pg_temp type-shadowing exploit (a temp domain named `uuid` whose CHECK runs the caller's code)
-- no longer reaches a SECURITY DEFINER function.
begin;
select plan(9);

-- No request role may create temporary objects in the app database. CREATE DATABASE ... TEMPLATE does
-- not copy database privileges, so in a clone made by the test runner (datacl still null, the
-- defaults) the migrated template (tc_template) is the database the migration ran on.
create temp table t_db as
  select coalesce((select datname from pg_database where datname = current_database() and datacl is not null),
                  (select datname from pg_database where datname = 'tc_template'), current_database()) as name;
select ok(not has_database_privilege('anon', (select name from t_db), 'temporary'), 'anon has no TEMP');
select ok(not has_database_privilege('authenticated', (select name from t_db), 'temporary'), 'authenticated has no TEMP');
select ok(not has_database_privilege('authenticator', (select name from t_db), 'temporary'), 'authenticator has no TEMP');

-- Every SECURITY DEFINER function pins the path; so does every other function, but for three
-- inlined or hot ones whose bodies qualify every name (docs/decisions.md, "Security hardening").
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
    where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
      and p.prosecdef and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false)),
  null, 'every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp');
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
    where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
      and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false)),
  array['app_private.publish_stream_event(uuid,text,jsonb)', 'app_public.current_user_id()', 'app_public.period_start(text,timestamp with time zone)'],
  'only the three documented functions run without a pinned path');

-- The exploit, as a signed-in user who has been given TEMP (as every role had by default).
select tests.create_user('mallory');
do $$ begin execute format('grant temporary on database %I to authenticated', current_database()); end $$;
select tests.act_as((select id from app_public.users where username = 'mallory'));
create function pg_temp.trap(v pg_catalog.uuid) returns boolean language sql volatile
  as $$ select pg_catalog.set_config('tests.trapped_as', pg_catalog.current_user()::text, false) is not null $$;
create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.trap(value));
select is((select 'c0ffee00-0000-4000-8000-000000000000'::uuid is not null), true, 'the trap is armed: an unqualified uuid in the caller''s own query is the temp domain');
select is(current_setting('tests.trapped_as', true), 'authenticated', 'and its CHECK runs as the caller');
select set_config('tests.trapped_as', '', false);
select is((app_public.my_wallet()).balance, 0::bigint, 'my_wallet (SECURITY DEFINER, declares a uuid variable) still answers');
select is(nullif(current_setting('tests.trapped_as', true), ''), null, 'and the temp domain''s CHECK never ran inside it (it would run as the owner)');

select * from finish();
rollback;
