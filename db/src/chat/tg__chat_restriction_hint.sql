create or replace function app_private.tg__chat_restriction_hint() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  update app_private.user_identities i
     set restricted_in = i.restricted_in || new.stream_id
   where i.user_id = new.user_id and not (new.stream_id = any (i.restricted_in));
  return null;
end;
$$;
revoke all on function app_private.tg__chat_restriction_hint() from public, anon, authenticated;
comment on function app_private.tg__chat_restriction_hint() is
  'Adds the stream of a new (or moved) mute or ban to the user''s restricted_in hint.';
