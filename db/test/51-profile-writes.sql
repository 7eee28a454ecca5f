-- Security: every write the API exposes on app_public.users, as the real request roles (finding 4:
-- every profile edit failed with "permission denied for schema app_private" from the identity trigger).
begin;
select plan(20);

select tests.create_user('alice');
select tests.create_user('bob');
create table tests.t_ids as
  select (select id from app_public.users where username = 'alice') as alice,
         (select id from app_public.users where username = 'bob') as bob;
grant select on t_ids to public;

-- The owner of the row: updateUser(ById|ByUsername) is `update ... where id = $1 returning *`.
select tests.act_as((select alice from t_ids));
select is(tests.row_count(format('update app_public.users set display_name = %L where id = %L', 'Alice A.', (select alice from t_ids))), 1,
  'the owner updates their display name');
select is(tests.row_count(format('update app_public.users set avatar_url = %L where id = %L', 'https://cdn.example/a.png', (select alice from t_ids))), 1,
  'the owner updates their avatar');
select is(tests.row_count(format('update app_public.users set vehicle_status = %L where id = %L', 'Pink Cadillac', (select alice from t_ids))), 1,
  'the owner updates their vehicle status');
select is(tests.row_count(format('update app_public.users set display_name = %L, avatar_url = null, vehicle_status = null where username = %L', 'Alice', 'alice')), 1,
  'the owner updates several columns at once, by username');
select is((app_public.set_vehicle_status('  Lowrider  ')).vehicle_status, 'Lowrider', 'set_vehicle_status works for a signed-in user');
select is((app_public.set_vehicle_status('')).vehicle_status, null, 'and clears with an empty status');

-- Columns outside the grant, and other users' rows.
select throws_ok(format('update app_public.users set role = %L where id = %L', 'admin', (select alice from t_ids)), '42501', null,
  'nobody promotes themselves (role is not granted)');
select throws_ok(format('update app_public.users set is_banned = false where id = %L', (select alice from t_ids)), '42501', null,
  'is_banned is not granted');
select throws_ok(format('update app_public.users set username = %L where id = %L', 'alice2', (select alice from t_ids)), '42501', null,
  'username is not granted');
select is(tests.row_count(format('update app_public.users set display_name = %L where id = %L', 'pwned', (select bob from t_ids))), 0,
  'another user''s row: 0 rows');
select is(tests.row_count(format('update app_public.users set display_name = %L', 'everyone')), 1,
  'an unqualified update reaches only the caller''s own row');
select throws_ok(format('delete from app_public.users where id = %L', (select alice from t_ids)), '42501', null, 'no deletes');
select throws_ok(format('insert into app_public.users (username, display_name) values (%L, %L)', 'sneaky', 'sneaky'), '42501', null, 'no inserts');

-- Anonymous visitors.
select tests.act_as_anon();
select throws_ok(format('update app_public.users set display_name = %L where id = %L', 'anon', (select bob from t_ids)), '42501', null,
  'anon may not update profiles');
select throws_ok('select app_public.set_vehicle_status(''x'')', '42501', null, 'anon may not call set_vehicle_status');

-- What landed, and the identity row the chat reads follows it.
select tests.act_as_owner();
select is((select display_name from app_public.users where id = (select alice from t_ids)), 'everyone', 'alice''s last edit landed');
select is((select display_name from app_public.users where id = (select bob from t_ids)), 'bob', 'bob''s profile is untouched');
select is((select sender ->> 'display_name' from app_private.user_identities where user_id = (select alice from t_ids)), 'everyone',
  'the identity row follows the edit');
select is((select sender ->> 'vehicle_status' from app_private.user_identities where user_id = (select alice from t_ids)), null,
  'and the cleared vehicle status');
select ok((select p.prosecdef and 'search_path=pg_catalog, pg_temp' = any (p.proconfig) from pg_proc p
            where p.oid = 'app_private.tg_users__identity()'::regprocedure), 'the identity trigger is SECURITY DEFINER with a pinned path');

select * from finish();
rollback;
