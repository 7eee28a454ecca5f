-- Tunables where operators look for them: the chat rate and burst, the chat message length, the
-- slow-mode and seat-cap bounds, how long a stage invitation stays open and the gift quantity cap are rows of app_private.settings (next to
-- gift_fee_bps and gift_batch_size), documented in db/README.md ("Settings"). The functions read
-- them with a default for a missing row, so this file is re-runnable and a deleted row is harmless.
insert into app_private.settings (key, value) values
  ('chat_rate_per_second', '1.0'),
  ('chat_burst', '5'),
  ('chat_max_length', '500'),
  ('chat_slow_mode_max_seconds', '3600'),
  ('stage_max_seats', '12'),
  ('stage_invitation_seconds', '120'),
  ('gift_max_quantity', '1000')
on conflict (key) do nothing;

comment on table app_private.settings is
  'Server-written configuration (JWT secret, audience, token lifetime) and the operator tunables (gift fee and batch size, chat rate, burst and length, slow-mode and seat-cap bounds, stage invitation lifetime, gift quantity cap, retention): see db/README.md. Never exposed.';

--!include chat/send_chat_message.sql
--!include chat/set_slow_mode.sql
--!include stage/set_seat_cap.sql
--!include stage/invite_to_seat.sql
--!include gifts/send_gift.sql
