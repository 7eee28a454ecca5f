-- Foundation: schemas and privileges per role, identity, register/login, streams.
begin;
select plan(39);

-- Schemas and what each request role may reach.
select has_schema('app_public');
select has_schema('app_hidden');
select has_schema('app_private');
select ok(has_schema_privilege('anon', 'app_public', 'usage'), 'anon may use app_public');
select ok(has_schema_privilege('authenticated', 'app_public', 'usage'), 'authenticated may use app_public');
select ok(not has_schema_privilege('anon', 'app_private', 'usage'), 'anon has no usage on app_private');
select ok(not has_schema_privilege('authenticated', 'app_private', 'usage'), 'authenticated has no usage on app_private');
select ok(not has_schema_privilege('authenticated', 'public', 'create'), 'authenticated may not create in public');
select ok((select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'), 'authenticator is LOGIN NOINHERIT');
select ok(not (select rolcanlogin from pg_roles where rolname = 'anon'), 'anon is NOLOGIN');
select ok(pg_has_role('authenticator', 'anon', 'member') and pg_has_role('authenticator', 'authenticated', 'member'),
  'authenticator may switch to anon and authenticated');

-- Row level security is on (and forced) for every table in app_public.
select is(
  (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'app_public' and c.relkind = 'r' and not (c.relrowsecurity and c.relforcerowsecurity)),
  0, 'every app_public table has RLS enabled and forced');

-- No function is executable by PUBLIC unless we granted it.
select is(
  (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('app_public', 'app_hidden', 'app_private')
      and has_function_privilege('public', p.oid, 'execute')),
  0, 'no app function is executable by PUBLIC');
select ok(not has_function_privilege('authenticated', 'app_private.sign_jwt(uuid)', 'execute'), 'authenticated cannot sign tokens');
select ok(not has_function_privilege('anon', 'public.crypt(text, text)', 'execute'), 'anon cannot call pgcrypto directly');
select ok(not has_table_privilege('authenticated', 'app_public.users', 'insert'), 'authenticated cannot insert users directly');
select ok(not has_column_privilege('authenticated', 'app_public.users', 'role', 'update'), 'authenticated cannot update a role');
select ok(not has_column_privilege('authenticated', 'app_public.users', 'is_banned', 'update'), 'authenticated cannot unban themselves');
select ok(not has_table_privilege('anon', 'app_public.streams', 'insert'), 'anon cannot insert streams');

-- Identity from request.jwt.claims.
select is(app_public.current_user_id(), null, 'no claims: anonymous');
select set_config('request.jwt.claims', '{"role":"authenticated","sub":"00000000-0000-0000-0000-0000000000aa"}', true);
select is(app_public.current_user_id(), '00000000-0000-0000-0000-0000000000aa'::uuid, 'current_user_id() reads sub');
select set_config('request.jwt.claims', '', true);

-- register / login.
select tests.act_as_anon();
select ok(app_public.register('newbie', 'newbie@example.com', 'correct horse') ~ '^[\w-]+\.[\w-]+\.[\w-]+$', 'register returns a JWT');
select throws_ok($$ select app_public.register('newbie', 'other@example.com', 'correct horse') $$, 'CONFL', 'username or email is already registered', 'duplicate username: CONFL (one answer for username and e-mail)');
select throws_ok($$ select app_public.register('NEWBIE', 'other@example.com', 'correct horse') $$, 'CONFL', null, 'usernames are case-insensitive');
select throws_ok($$ select app_public.register('other', 'NEWBIE@example.com', 'correct horse') $$, 'CONFL', null, 'duplicate email: CONFL');
select throws_ok($$ select app_public.register('x', 'x@example.com', 'correct horse') $$, 'BADIN', null, 'bad username: BADIN');
select throws_ok($$ select app_public.register('valid_name', 'not-an-email', 'correct horse') $$, 'BADIN', null, 'bad email: BADIN');
select throws_ok($$ select app_public.register('valid_name', 'v@example.com', 'short') $$, 'BADIN', null, 'short password: BADIN');
select ok(app_public.login('newbie', 'correct horse') is not null, 'login by username');
select ok(app_public.login('NEWBIE@example.com', 'correct horse') is not null, 'login by email, any case');
select throws_ok($$ select app_public.login('newbie', 'wrong password') $$, 'CREDS', null, 'wrong password: CREDS');
select throws_ok($$ select app_public.login('nobody', 'whatever') $$, 'CREDS', null, 'unknown user: the same CREDS');
select tests.act_as_owner();

-- The token carries role, sub, aud, exp — and nothing that grants more.
select is(
  (select convert_from(decode(rpad(translate(split_part(app_private.sign_jwt(id), '.', 2), '-_', '+/'),
     ((length(split_part(app_private.sign_jwt(id), '.', 2)) + 3) / 4) * 4, '='), 'base64'), 'UTF8')::jsonb - 'iat' - 'exp' - 'sub'
     from app_public.users where username = 'newbie'),
  '{"aud": "trollcity", "role": "authenticated"}'::jsonb, 'token claims: role authenticated, audience');

-- Banned users cannot sign in.
update app_public.users set is_banned = true where username = 'newbie';
select tests.act_as_anon();
select throws_ok($$ select app_public.login('newbie', 'correct horse') $$, 'BANND', null, 'banned: BANND');
select tests.act_as_owner();

-- Streams: only broadcasters go live; only the owner or an admin ends a stream.
select tests.create_user('caster', 'broadcaster');
select tests.create_user('viewer1');
select tests.act_as((select id from app_public.users where username = 'viewer1'));
select throws_ok($$ select app_public.go_live('hello') $$, 'DENYD', null, 'a viewer cannot go live');
select tests.act_as((select id from app_public.users where username = 'caster'));
select is((app_public.go_live('  My show  ')).title, 'My show', 'a broadcaster goes live (title trimmed)');
select throws_ok($$ select app_public.go_live('again') $$, 'CONFL', null, 'one live stream per broadcaster');
select tests.act_as((select id from app_public.users where username = 'viewer1'));
select throws_ok(format('select app_public.end_stream(%L)', (select id from app_public.streams limit 1)), 'DENYD', null, 'a viewer cannot end a stream');
select tests.act_as_anon();
select throws_ok($$ select app_public.go_live('anon show') $$, '42501', null, 'anonymous may not even call go_live');

select * from finish();
rollback;
