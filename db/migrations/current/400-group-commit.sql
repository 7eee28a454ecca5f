-- Issue 14: group commit. Set-based batch versions of send_gift and send_chat_message for the
-- server's write batcher, executable only by trollcity_server (db/setup.sql). Re-runnable.
drop function if exists app_private.send_gifts(jsonb);
drop function if exists app_private.send_chat_messages(jsonb);
drop function if exists app_private.gift_request_rows(jsonb);
drop type if exists app_private.gift_request;

-- One row of a send_gifts batch as app_private.gift_request_rows reads it (db/src/gifts/gift_request_rows.sql).
create type app_private.gift_request as (
  ord integer, sender_id uuid, stream_raw text, stream_uuid uuid, gift_raw text, gift_uuid uuid, qty_raw text, qty integer,
  idem_key text, u_id uuid, username text, display_name text, avatar_url text, is_banned boolean,
  s_id uuid, s_status text, broadcaster_id uuid, g_id uuid, slug text, g_name text, art_url text, coin_price integer,
  active boolean, w_balance bigint, l_id bigint, l_stream uuid, l_gift uuid, l_qty integer, l_coins bigint,
  l_created timestamptz, srank bigint, kgroup integer, sfirst boolean,
  pre_code text, pre_message text, check_code text, check_message text);
comment on type app_private.gift_request is
  'One request of a send_gifts batch, parsed and joined with what its rules read (app_private.gift_request_rows).';
--!include shared/server_role.access.sql
--!include gifts/gift_request_rows.sql
--!include gifts/send_gifts.sql
--!include chat/send_chat_messages.sql
