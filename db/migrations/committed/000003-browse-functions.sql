--! Previous: sha1:c641debcc5b33c2621ff7a46f25cc859c76f1f43
--! Hash: sha1:85ce0ca672fde3345ceaa26444f15a0edeef8659
--! Message: browse functions

--! split: 050-browse.sql
-- Browsing: the queries the home page and profiles need, as functions over indexed paths (the
-- generated API only offers conditions on indexed columns).
create index streams_live_started_at_idx on app_public.streams (started_at desc) where status = 'live';

create function app_public.live_streams() returns setof app_public.streams
  language sql stable
  set search_path = ''
as $$
  select s.* from app_public.streams s where s.status = 'live' order by s.started_at desc
$$;
grant execute on function app_public.live_streams() to anon, authenticated;
comment on function app_public.live_streams() is 'Streams that are live now, newest first.';

create function app_public.user_by_username(username text) returns app_public.users
  language sql stable
  set search_path = ''
as $$
  select u.* from app_public.users u where lower(u.username) = lower(user_by_username.username)
$$;
grant execute on function app_public.user_by_username(text) to anon, authenticated;
comment on function app_public.user_by_username(text) is 'A user by username (case-insensitive).';
