-- Issue 12 (the web app): admin-only functions (admins may, others DENYD), site-wide bans, token
-- renewal, wallet history, the welcome grant, Stripe fulfilment (idempotent) and the clawback policy
-- (never a coin created or destroyed; a shortfall becomes a wallet debt settled by the next purchase).
begin;
select plan(41);

select tests.create_user('boss', 'admin');
select tests.create_user('mia', 'moderator');
select tests.create_user('vic');
select tests.create_user('host', 'broadcaster');
create function tests.uid(name text) returns uuid language sql as $$ select id from app_public.users where username = name $$;
grant execute on function tests.uid(text) to public;
insert into app_private.settings (key, value) values ('jwt_secret', 'test-secret-0123456789abcdef0123456789'),
  ('jwt_audience', 'trollcity'), ('jwt_ttl_seconds', '900') on conflict (key) do update set value = excluded.value;

-- Admin-only reads: admin may, moderator and viewer DENYD, anon not even allowed to call.
select tests.act_as(tests.uid('boss'));
select ok((select count(*) from app_public.admin_users('vic')) = 1, 'admin searches users');
select is((select email from app_public.admin_users('vic')), 'vic@test.invalid', 'admin sees the e-mail');
select lives_ok('select * from app_public.admin_failed_gifts()', 'admin reads failed gifts');
select lives_ok('select * from app_public.admin_livekit_failures()', 'admin reads LiveKit failures');
select lives_ok('select * from app_public.admin_moderation_log()', 'admin reads the moderation log');
select tests.act_as(tests.uid('mia'));
select throws_ok('select * from app_public.admin_users(null)', 'DENYD', null, 'moderator may not search users');
select throws_ok('select * from app_public.admin_failed_gifts()', 'DENYD', null, 'moderator may not read failed gifts');
select throws_ok('select * from app_public.admin_livekit_failures()', 'DENYD', null, 'moderator may not read LiveKit failures');
select lives_ok('select * from app_public.admin_moderation_log()', 'moderator reads the moderation log');
select throws_ok(format('select app_public.ban_site_user(%L, %L)', tests.uid('vic'), 'spam'), 'DENYD', null, 'moderator may not ban site-wide');
select tests.act_as(tests.uid('vic'));
select throws_ok('select * from app_public.admin_users(null)', 'DENYD', null, 'viewer may not search users');
select throws_ok('select * from app_public.admin_moderation_log()', 'DENYD', null, 'viewer may not read the moderation log');
select throws_ok(format('select app_public.ban_site_user(%L, %L)', tests.uid('mia'), 'spam'), 'DENYD', null, 'viewer may not ban');
select throws_ok(format('select app_public.unban_site_user(%L, %L)', tests.uid('mia'), 'ok'), 'DENYD', null, 'viewer may not unban');
select tests.act_as_anon();
select throws_ok('select * from app_public.admin_users(null)', '42501', null, 'anon may not call admin functions');

-- Token renewal: a fresh JWT for the signed-in user.
select tests.act_as(tests.uid('vic'));
select matches(app_public.renew_token(), '^[\w-]+\.[\w-]+\.[\w-]+$', 'renew_token returns a JWT');

-- Site-wide ban: takes effect at once.
select tests.act_as(tests.uid('host'));
create table tests.t_stream as select (app_public.go_live('Ban test')).id;
grant select on t_stream to public;
select tests.act_as_owner();
insert into app_public.stream_seats (stream_id, user_id, slot, status, accepted_at)
  values ((select id from t_stream), tests.uid('mia'), 1, 'active', now());
select tests.act_as(tests.uid('boss'));
select throws_ok(format('select app_public.ban_site_user(%L, %L)', tests.uid('mia'), ''), 'BADIN', null, 'a ban needs a reason');
select throws_ok(format('select app_public.ban_site_user(%L, %L)', tests.uid('boss'), 'me'), 'DENYD', null, 'an admin may not ban themselves');
select is((app_public.ban_site_user(tests.uid('mia'), 'abuse')).is_banned, true, 'admin bans a user');
select tests.act_as_owner();
select is((select role::text from app_public.users where id = tests.uid('mia')), 'viewer', 'a banned moderator loses moderation powers');
select is((select status from app_public.stream_seats where user_id = tests.uid('mia')), 'revoked', 'their stage seat ends');
select ok(exists (select 1 from graphile_worker.jobs j where j.task_identifier = 'stream_seats__enforce'),
          'LiveKit revocation is queued for the worker');
select is((select action from app_public.moderation_actions where target_user_id = tests.uid('mia')), 'site_ban', 'the ban is in the moderation log');
select tests.act_as(tests.uid('mia'));
select throws_ok('select app_public.renew_token()', 'BANND', null, 'a banned user cannot renew their token');
select throws_ok('select * from app_public.my_coin_transactions()', 'BANND', null, 'a banned user''s token is refused');
select tests.act_as_anon();
select throws_ok($$select app_public.login('mia', 'password')$$, 'BANND', null, 'a banned user cannot sign in');
select tests.act_as(tests.uid('boss'));
select is((app_public.unban_site_user(tests.uid('mia'), 'appeal')).is_banned, false, 'admin lifts the ban');

-- Welcome grant: none by default, the configured amount when set.
select tests.act_as_anon();
select lives_ok($$select app_public.register('newbie', 'newbie@test.invalid', 'password123')$$, 'sign up');
select tests.act_as_owner();
select is((select count(*)::int from app_private.wallets w where w.user_id = tests.uid('newbie') and w.balance > 0), 0, 'no free coins by default');
update app_private.settings set value = '25' where key = 'welcome_coins';
select tests.act_as_anon();
select lives_ok($$select app_public.register('lucky', 'lucky@test.invalid', 'password123')$$, 'sign up with a welcome grant');
select tests.act_as_owner();
select is((select balance from app_private.wallets where user_id = tests.uid('lucky')), 25::bigint, 'welcome_coins are granted');

-- Stripe: a pack, a checkout session, fulfilment once.
insert into app_public.coin_packs (slug, name, coins, price_cents) values ('pack-100', '100 coins', 100, 199);
select app_private.record_checkout_session('cs_1', tests.uid('vic'), (select id from app_public.coin_packs where slug = 'pack-100'));
select is((select balance from app_private.fulfil_checkout('evt_1', 'cs_1', 'pi_1')), 100::bigint, 'a paid session credits the pack');
select is((select duplicate from app_private.fulfil_checkout('evt_1', 'cs_1', 'pi_1')), true, 'the same event again is a duplicate');
select is((select duplicate from app_private.fulfil_checkout('evt_2', 'cs_1', 'pi_1')), true, 'another event for the same session is a duplicate');
select throws_ok($$select app_private.fulfil_checkout('evt_3', 'cs_unknown', 'pi_x')$$, 'NOFND', null, 'an unknown session is refused');

-- Clawback: vic spends 70 of 100 (a grant moved away), then the payment is refunded in full.
update app_private.wallets set balance = balance - 70 where user_id = tests.uid('vic');
insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, credit_user_id, amount)
  values ('gift_settlement', 'user', tests.uid('vic'), 'user', tests.uid('host'), 70);
insert into app_private.wallets (user_id, balance) values (tests.uid('host'), 70)
  on conflict (user_id) do update set balance = app_private.wallets.balance + 70;
select results_eq($$select clawed, debt, balance from app_private.claw_back_payment('evt_r1', 'charge.refunded', 'pi_1', 199)$$,
  $$values (30::bigint, 70::bigint, 0::bigint)$$, 'a refund takes the balance and records the rest as a debt');
select is((select duplicate from app_private.claw_back_payment('evt_r1', 'charge.refunded', 'pi_1', 199)), true, 'the refund event again changes nothing');
select is((select clawed + debt from app_private.claw_back_payment('evt_d1', 'charge.dispute.created', 'pi_1', 199)), 0::bigint,
  'a dispute after a full refund claws nothing more');
-- The next purchase settles the debt first.
select app_private.record_checkout_session('cs_2', tests.uid('vic'), (select id from app_public.coin_packs where slug = 'pack-100'));
select results_eq($$select balance, debt_paid from app_private.fulfil_checkout('evt_4', 'cs_2', 'pi_2')$$,
  $$values (30::bigint, 70::bigint)$$, 'the next purchase pays the debt first');
select is((select outstanding from app_private.wallet_debts where user_id = tests.uid('vic')), 0::bigint, 'the debt is settled');
select is((select count(*)::int from app_private.gift_audit() a where a.invariant = 'coins conserved'), 0, 'coins conserved: wallets + platform = coins issued');

select * from finish();
rollback;
