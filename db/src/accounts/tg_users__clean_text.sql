create or replace function app_private.tg_users__clean_text() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  -- Profile text is written directly (GraphQL updateUser*), so the rules run here, as a BADIN naming the field.
  new.display_name := app_hidden.clean_line(new.display_name, 'display name', 64);
  new.vehicle_status := app_hidden.clean_line(new.vehicle_status, 'vehicle status', 40, 0);
  if new.avatar_url is not null then
    new.avatar_url := nullif(btrim(new.avatar_url), '');
    if new.avatar_url !~ '^https?://[!-~]+$' or char_length(new.avatar_url) > 2000 then
      raise exception 'avatar URL must be an http(s) URL of at most 2000 printable ASCII characters' using errcode = 'BADIN';
    end if;
  end if;
  return new;
end;
$$;
revoke all on function app_private.tg_users__clean_text() from public, anon, authenticated;
comment on function app_private.tg_users__clean_text() is
  'Display name, vehicle status and avatar URL, cleaned (NFC, trimmed) or refused with BADIN on every insert and update of app_public.users (docs/security.md).';
