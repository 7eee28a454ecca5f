create or replace function app_public.streams_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  return (select coalesce(sum(p.viewers), 0)::int
            from app_private.presence_counts p
           where p.stream_id = s.id and p.updated_at > now() - interval '15 seconds');
end;
$$;
revoke all on function app_public.streams_viewer_count(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_viewer_count(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_viewer_count(s app_public.streams) is
  'Viewers connected now (broadcast sockets and streamEvents subscriptions over all server processes), at most a few seconds old.';
