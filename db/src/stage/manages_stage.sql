create or replace function app_private.manages_stage(stream app_public.streams, actor app_public.users) returns boolean
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select actor.id = stream.broadcaster_id or actor.role in ('moderator', 'admin')
$$;
revoke all on function app_private.manages_stage(stream app_public.streams, actor app_public.users) from public, anon, authenticated;
comment on function app_private.manages_stage(stream app_public.streams, actor app_public.users) is
  'Invites and revokes seats: the stream''s broadcaster, moderators and admins.';
