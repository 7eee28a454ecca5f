-- Issue 15, security hardening (database side); docs/security.md says what each part is for.
-- Re-runnable: --!include lines (idempotent source files) and idempotent DDL only. Order: database
-- privileges, new tables, new helper functions, every changed source file, then the data repair,
-- triggers, constraints and indexes that need them.

-- Pinned search_path (every source file below now sets `search_path = pg_catalog, pg_temp` instead
-- of '': with '' PostgreSQL still looks in pg_temp first for types, so a session with TEMP could
-- shadow `uuid` with a temp domain whose CHECK runs its own code as a SECURITY DEFINER function's
-- owner). And no request role may create temporary objects in the app database at all.
do $$
begin
  execute format('revoke temporary on database %I from public', current_database());
  execute format('revoke temporary on database %I from anon, authenticated, authenticator', current_database());
  -- The role the app migrates and runs as (the server and worker: settlement uses a temp table)
  -- keeps it, also when it is not the database's owner and had TEMP only through PUBLIC.
  execute format('grant temporary on database %I to %I', current_database(), current_user);
end
$$;

-- Finding 1: failed sign-ins per account and window (app_public.login, app_private.record_login_failure).
create table if not exists app_private.login_failures (
  account text primary key,
  failures integer not null check (failures > 0),
  window_start timestamptz not null
);
comment on table app_private.login_failures is
  'Failed sign-ins per account (user id, or a digest of an unknown identifier) in the current window; read by app_public.login, written by app_private.record_login_failure.';
create index if not exists login_failures_window_start_idx on app_private.login_failures (window_start);

-- New helpers: the text rule (finding 7), the sign-in throttle (finding 1), the admin playback rows
-- behind the now security_invoker view app_public.playback_health (lint security_definer_view).
--!include shared/hidden_chars.sql
--!include shared/is_clean_line.sql
--!include shared/clean_line.sql
--!include shared/strip_hidden.sql
--!include accounts/login_account_key.sql
--!include accounts/record_login_failure.sql
--!include playback/playback_health_rows.sql

-- Every changed function, view, policy and grant block: the pinned path everywhere; profile edits
-- (tg_users__identity SECURITY DEFINER, finding 4); clean_line in every function taking user text
-- (finding 7); private gifter stats with public top lists (finding 8); login/register (finding 1);
-- what plpgsql_check found (unread variables, the settlement's temp table declared for the checker).
--!include accounts/base64url.sql
--!include accounts/configure_auth.sql
--!include accounts/current_user.sql
--!include accounts/current_user_id.sql
--!include accounts/login.sql
--!include accounts/register.sql
--!include accounts/require_user.sql
--!include accounts/set_user_role.sql
--!include accounts/set_vehicle_status.sql
--!include accounts/sign_jwt.sql
--!include accounts/tg_users__clean_text.sql
--!include accounts/tg_users__identity.sql
--!include accounts/user_by_username.sql
--!include chat/ban_user.sql
--!include chat/can_moderate_stream.sql
--!include chat/delete_chat_message.sql
--!include chat/flush_chat_transcript.sql
--!include chat/log_moderation.sql
--!include chat/moderation_target.sql
--!include chat/mute_user.sql
--!include chat/recent_chat_messages.sql
--!include chat/send_chat_message.sql
--!include chat/set_slow_mode.sql
--!include chat/tg__chat_restriction_hint.sql
--!include chat/unban_user.sql
--!include chat/unmute_user.sql
--!include gifts/broadcaster_gifter_stats.access.sql
--!include gifts/broadcaster_stats.access.sql
--!include gifts/gift_audit.sql
--!include gifts/gift_batch_logs.sql
--!include gifts/gift_receipt_for.sql
--!include gifts/gift_setting.sql
--!include gifts/gift_status.sql
--!include gifts/grant_coins.sql
--!include gifts/issue_coins.sql
--!include gifts/leaderboard.sql
--!include gifts/my_wallet.sql
--!include gifts/period_start.sql
--!include gifts/process_gift_ledger_batch.sql
--!include gifts/purchase_coins.sql
--!include gifts/reverse_gift.sql
--!include gifts/send_gift.sql
--!include gifts/stream_gifter_stats.access.sql
--!include gifts/stream_leaderboard_event.sql
--!include gifts/tg_gift_ledger__queue.sql
--!include gifts/top_gifters.sql
--!include gifts/top_gifters_of_broadcaster.sql
--!include playback/claim_hls_checks.sql
--!include playback/configure_playback.sql
--!include playback/configure_stream_playback.sql
--!include playback/hls_check_target.sql
--!include playback/playback_health.sql
--!include playback/playback_metrics.sql
--!include playback/playback_viewer_count.sql
--!include playback/record_hls_check.sql
--!include playback/report_playback_failure.sql
--!include playback/request_transition.sql
--!include playback/request_viral_mode.sql
--!include playback/scan_viral_thresholds.sql
--!include playback/streams_hls_url.sql
--!include playback/streams_playback.sql
--!include realtime/apply_viewer_count.sql
--!include realtime/clear_presence.sql
--!include realtime/flush_presence.sql
--!include realtime/next_stream_event_batches.sql
--!include realtime/prune_stream_events.sql
--!include realtime/publish_viewer_counts.sql
--!include realtime/relay_stream_events.sql
--!include realtime/stream_events_since.sql
--!include realtime/streams_viewer_count.sql
--!include shared/add_job.sql
--!include shared/tg__append_only.sql
--!include shared/tg__timestamps.sql
--!include stage/accept_seat.sql
--!include stage/expire_due_seats.sql
--!include stage/expire_seat.sql
--!include stage/invite_to_seat.sql
--!include stage/leave_seat.sql
--!include stage/livekit_grant.sql
--!include stage/livekit_grant_for.sql
--!include stage/manages_stage.sql
--!include stage/revoke_seat.sql
--!include stage/set_seat_cap.sql
--!include stage/tg_stream_seats__enqueue.sql
--!include stage/tg_streams__end_seats.sql
--!include streams/end_stream.sql
--!include streams/go_live.sql
--!include streams/live_streams.sql

-- Finding 7: one rule for every single-line text field, app_hidden.clean_line() in the functions and
-- app_hidden.is_clean_line() as a CHECK on the columns.
-- Old rows that break the rule are repaired first (the offending characters removed), so the
-- constraints are validated. Chat's buffer holds minutes of messages: its constraint is NOT VALID
-- (rows already there age out; every new row is checked).
update app_public.streams set title = coalesce(left(app_hidden.strip_hidden(title), 140), 'Untitled')
 where not app_hidden.is_clean_line(title);
update app_public.users set display_name = coalesce(left(app_hidden.strip_hidden(display_name), 64), username)
 where not app_hidden.is_clean_line(display_name);
update app_public.users set vehicle_status = left(app_hidden.strip_hidden(vehicle_status), 40)
 where not app_hidden.is_clean_line(vehicle_status);
update app_public.users set avatar_url = null where avatar_url !~ '^https?://[!-~]+$' or char_length(avatar_url) > 2000;
update app_public.stream_seats set end_reason = left(app_hidden.strip_hidden(end_reason), 200)
 where not app_hidden.is_clean_line(end_reason);
update app_public.stream_bans set reason = left(app_hidden.strip_hidden(reason), 500) where not app_hidden.is_clean_line(reason);
update app_public.stream_mutes set reason = left(app_hidden.strip_hidden(reason), 500) where not app_hidden.is_clean_line(reason);
update app_public.moderation_actions set reason = left(app_hidden.strip_hidden(reason), 500)
 where not app_hidden.is_clean_line(reason) or char_length(reason) > 500;
update app_public.gifts set name = coalesce(left(app_hidden.strip_hidden(name), 40), slug) where not app_hidden.is_clean_line(name);

drop trigger if exists _200_clean_text on app_public.users;
create trigger _200_clean_text before insert or update of display_name, vehicle_status, avatar_url on app_public.users
  for each row execute function app_private.tg_users__clean_text();

alter table app_public.streams drop constraint if exists streams_title_clean;
alter table app_public.streams add constraint streams_title_clean check (app_hidden.is_clean_line(title));
alter table app_public.users drop constraint if exists users_display_name_clean;
alter table app_public.users add constraint users_display_name_clean check (app_hidden.is_clean_line(display_name));
alter table app_public.users drop constraint if exists users_vehicle_status_clean;
alter table app_public.users add constraint users_vehicle_status_clean check (app_hidden.is_clean_line(vehicle_status));
alter table app_public.users drop constraint if exists users_avatar_url_check;
alter table app_public.users add constraint users_avatar_url_check
  check (avatar_url ~ '^https?://[!-~]+$' and char_length(avatar_url) <= 2000);
alter table app_public.stream_seats drop constraint if exists stream_seats_end_reason_clean;
alter table app_public.stream_seats add constraint stream_seats_end_reason_clean check (app_hidden.is_clean_line(end_reason));
alter table app_public.stream_bans drop constraint if exists stream_bans_reason_clean;
alter table app_public.stream_bans add constraint stream_bans_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.stream_mutes drop constraint if exists stream_mutes_reason_clean;
alter table app_public.stream_mutes add constraint stream_mutes_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.moderation_actions drop constraint if exists moderation_actions_reason_check;
alter table app_public.moderation_actions add constraint moderation_actions_reason_check check (char_length(reason) <= 500);
alter table app_public.moderation_actions drop constraint if exists moderation_actions_reason_clean;
alter table app_public.moderation_actions add constraint moderation_actions_reason_clean check (app_hidden.is_clean_line(reason));
alter table app_public.gifts drop constraint if exists gifts_name_clean;
alter table app_public.gifts add constraint gifts_name_clean check (app_hidden.is_clean_line(name));
alter table app_private.chat_messages drop constraint if exists chat_messages_body_clean;
alter table app_private.chat_messages add constraint chat_messages_body_clean check (app_hidden.is_clean_line(body)) not valid;

-- unindexed_foreign_keys: the ledger's user and gift references (partial: most rows have no user on one side).
create index if not exists coin_transactions_debit_user_id_idx on app_private.coin_transactions (debit_user_id)
  where debit_user_id is not null;
create index if not exists coin_transactions_credit_user_id_idx on app_private.coin_transactions (credit_user_id)
  where credit_user_id is not null;
create index if not exists coin_transactions_gift_ledger_id_idx on app_private.coin_transactions (gift_ledger_id)
  where gift_ledger_id is not null;
-- plpgsql_check (test/integration/plpgsql-check.test.ts): unread variables (also send_chat_message,
-- included above), and the settlement's temp table declared for the checker.
--!include playback/request_viral_mode.sql
--!include gifts/process_gift_ledger_batch.sql
