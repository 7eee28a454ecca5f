create or replace function app_public.delete_chat_message(message_id bigint, reason text default null) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream_id uuid;
  v_sender_id uuid;
  v_deleted timestamptz;
begin
  if v_uid is null then
    raise exception 'sign in to delete chat messages' using errcode = 'NOAUT';
  end if;
  reason := app_hidden.clean_line(reason, 'reason', 500, 0);
  select m.stream_id, m.sender_id, m.deleted_at into v_stream_id, v_sender_id, v_deleted
    from app_private.chat_messages m where m.id = message_id;
  if v_stream_id is null then
    select t.stream_id, t.sender_id, t.deleted_at into v_stream_id, v_sender_id, v_deleted
      from app_private.chat_transcript t where t.id = message_id;
  end if;
  if v_stream_id is null then
    raise exception 'chat message % not found', message_id using errcode = 'NOFND';
  end if;
  if v_sender_id <> v_uid and not app_hidden.can_moderate_stream(v_stream_id) then
    raise exception 'only the sender, the broadcaster or a moderator may delete chat message %', message_id using errcode = 'DENYD';
  end if;
  if v_deleted is not null then
    return false;
  end if;
  update app_private.chat_messages m set deleted_at = now() where m.id = message_id;
  update app_private.chat_transcript t set deleted_at = now(), deleted_by = v_uid where t.id = message_id;
  if v_sender_id <> v_uid then
    perform app_private.log_moderation(v_stream_id, 'delete_message', v_sender_id, reason, jsonb_build_object('message_id', message_id));
  end if;
  perform app_private.publish_stream_event(v_stream_id, 'chat_deleted', jsonb_build_object('message_id', message_id));
  return true;
end;
$$;
revoke all on function app_public.delete_chat_message(message_id bigint, reason text) from public, anon, authenticated;
grant execute on function app_public.delete_chat_message(message_id bigint, reason text) to authenticated;
comment on function app_public.delete_chat_message(message_id bigint, reason text) is
  'Deletes a chat message for everyone (a chat_deleted event); by its sender, the broadcaster or a moderator. False when already deleted. Errors: NOAUT, NOFND, DENYD.';
