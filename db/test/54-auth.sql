-- Security: sign-in and registration (finding 1). Per-account throttle (RATEL with retry_after),
-- identical answers and bcrypt work for unknown accounts, one answer for a taken username or e-mail,
-- password policy, bcrypt cost >= 10.
begin;
select plan(24);

select app_public.register('dora', 'dora@example.com', 'correct horse battery') is not null as registered;
select tests.create_user('weak');  -- a cost-4 hash, as tests and old imports have

-- Registration: bcrypt cost 10, the password policy, one answer for taken username and e-mail.
select matches((select password_hash from app_private.user_secrets where email = 'dora@example.com'), '^\$2[abxy]?\$10\$', 'register hashes with bcrypt cost 10');
select throws_ok($$ select app_public.register('eve1', 'eve1@example.com', 'ninechars') $$, 'BADIN', 'password must be at least 10 characters', '9 characters: BADIN');
select lives_ok($$ select app_public.register('eve2', 'eve2@example.com', 'tencharsok') $$, '10 characters: fine');
select throws_ok($$ select app_public.register('eve3', 'eve3@example.com', repeat('é', 37)) $$, 'BADIN', 'password must be at most 72 bytes', 'over 72 bytes (bcrypt''s limit): BADIN');
select throws_ok($$ select app_public.register('longusername', 'x1@example.com', 'LongUsername') $$, 'BADIN', 'password must not be the username or the e-mail address', 'the username as password: BADIN');
select throws_ok($$ select app_public.register('someone', 'mailbox.name@example.com', 'Mailbox.Name') $$, 'BADIN', null, 'the e-mail''s local part as password: BADIN');
select throws_ok($$ select app_public.register('dora', 'fresh@example.com', 'correct horse battery') $$, 'CONFL', 'username or email is already registered', 'taken username: CONFL');
select throws_ok($$ select app_public.register('fresh_name', 'DORA@example.com', 'correct horse battery') $$, 'CONFL', 'username or email is already registered', 'taken e-mail: the same answer');

-- Sign-in: unknown account and wrong password answer alike.
select throws_ok($$ select app_public.login('nobody_here', 'whatever password') $$, 'CREDS', 'wrong username/email or password', 'unknown account: CREDS');
select throws_ok($$ select app_public.login('dora', 'wrong password!') $$, 'CREDS', 'wrong username/email or password', 'wrong password: the same CREDS');
select ok(app_public.login('DORA@example.com', 'correct horse battery') is not null, 'the e-mail signs in too');

-- The same bcrypt work for an unknown account as for a known one (timing): both run one crypt() of cost 10.
create table tests.t_time (what text, ms numeric);
do $$
declare t0 timestamptz; i int;
begin
  for i in 1..2 loop  -- warm up
    begin perform app_public.login('dora', 'wrong password!'); exception when others then null; end;
    begin perform app_public.login('nobody_here', 'wrong password!'); exception when others then null; end;
  end loop;
  t0 := clock_timestamp();
  for i in 1..4 loop begin perform app_public.login('dora', 'wrong password!'); exception when others then null; end; end loop;
  insert into t_time values ('known', extract(epoch from clock_timestamp() - t0) * 1000 / 4);
  t0 := clock_timestamp();
  for i in 1..4 loop begin perform app_public.login('nobody_here', 'wrong password!'); exception when others then null; end; end loop;
  insert into t_time values ('unknown', extract(epoch from clock_timestamp() - t0) * 1000 / 4);
end $$;
select cmp_ok((select ms from t_time where what = 'unknown'), '>', (select ms from t_time where what = 'known') * 0.5,
  'an unknown account costs as much bcrypt work as a known one (not a shortcut)');
select cmp_ok((select ms from t_time where what = 'unknown'), '>', 10::numeric, 'and that work is real (bcrypt cost 10, over 10 ms)');

-- An old low-cost hash is upgraded at the next successful sign-in.
select ok(app_public.login('weak', 'password') is not null, 'a cost-4 account signs in');
select matches((select s.password_hash from app_private.user_secrets s join app_public.users u on u.id = s.user_id where u.username = 'weak'),
  '^\$2[abxy]?\$10\$', 'and its hash is upgraded to cost 10');

-- Throttle: failures are counted per account (username and e-mail share one), five in 15 minutes
-- lock the account with RATEL and the seconds to wait, before any password work.
select is(app_private.record_login_failure('dora'), 1, 'a failure counts');
select is(app_private.record_login_failure('DORA@example.com'), 2, 'the e-mail counts against the same account');
select count(app_private.record_login_failure('dora')) from generate_series(1, 3);
select throws_ok($$ select app_public.login('dora', 'correct horse battery') $$, 'RATEL', null, 'after 5 failures even the right password gets RATEL');
create table tests.t_ratel (message text, detail text);
do $$
declare v_msg text; v_detail text;
begin
  perform app_public.login('dora', 'correct horse battery');
exception when sqlstate 'RATEL' then
  get stacked diagnostics v_msg = message_text, v_detail = pg_exception_detail;
  insert into t_ratel values (v_msg, v_detail);
end $$;
select ok((select (detail::jsonb ->> 'retry_after')::int between 1 and 900 from t_ratel), 'RATEL carries retry_after (seconds) in its detail, as chat does');
select matches((select message from t_ratel), 'retry after \d+ seconds', 'and in its message');
select tests.act_as_anon();
select throws_ok($$ select app_public.login('dora', 'correct horse battery') $$, 'RATEL', null, 'as anon too');
select tests.act_as_owner();
-- The window passes: the account signs in again and its failures are forgotten.
update app_private.login_failures set window_start = now() - interval '16 minutes';
select ok(app_public.login('dora', 'correct horse battery') is not null, 'after the window the account signs in');
select is((select count(*)::int from app_private.login_failures), 0, 'and its failures are forgotten');
-- Unknown accounts are throttled the same way (throttling does not reveal which accounts exist).
select count(app_private.record_login_failure('ghost')) from generate_series(1, 5);
select throws_ok($$ select app_public.login('ghost', 'anything at all') $$, 'RATEL', null, 'an unknown account is throttled alike');

select * from finish();
rollback;
