-- Issue 14: group commit. Set-based batch versions of send_gift and send_chat_message for the
-- server's write batcher, executable only by trollcity_server (db/setup.sql). Re-runnable.
drop function if exists app_private.send_gifts(jsonb);
drop function if exists app_private.send_chat_messages(jsonb);
drop function if exists app_private.gift_request_rows(jsonb);
--!include shared/server_role.access.sql
--!include gifts/gift_request_rows.sql
--!include gifts/send_gifts.sql
--!include chat/send_chat_messages.sql
