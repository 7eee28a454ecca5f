create or replace function app_private.egress_job(id uuid)
returns table (
  id uuid, stream_id uuid, room text, target text, state text, action text, egress_id text,
  mux_live_stream_id text, segment_prefix text, playlist_name text, live_playlist_name text
)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- What the stream_egresses__run job must do for one egress: start it (requested, or retrying and
  -- due), wait for it to become active (starting), check it still runs (active), stop it (stopping),
  -- or nothing. A Mux live stream
  -- made for an earlier egress of the stream is reused. Origin egresses write their live playlist where
  -- the stream's HLS URL points (origin_path_template), segments beside it.
  select e.id, e.stream_id, e.stream_id::text, e.target, e.state,
         case
           when e.state in ('requested', 'retrying') and s.status = 'live' and coalesce(e.next_attempt_at, now()) <= now() then 'start'
           when e.state = 'starting' then 'poll'
           when e.state = 'active' then 'watch'
           when e.state = 'stopping' then 'stop'
           else 'none'
         end,
         e.egress_id,
         coalesce(e.mux_live_stream_id,
                  (select p.mux_live_stream_id from app_private.stream_egresses p
                    where p.stream_id = e.stream_id and p.mux_live_stream_id is not null order by p.created_at desc limit 1)),
         path.dir || 'seg',
         path.dir || 'full.m3u8',
         path.dir || path.file
    from app_private.stream_egresses e
    join app_public.streams s on s.id = e.stream_id
    left join app_private.stream_playback sp on sp.stream_id = e.stream_id
    cross join app_private.playback_settings cfg
    cross join lateral (
      select ltrim(regexp_replace(p, '[^/]*$', ''), '/') as dir, regexp_replace(p, '^.*/', '') as file
        from (select coalesce(sp.origin_path, replace(cfg.origin_path_template, '{stream_id}', e.stream_id::text)) as p) x
    ) path
   where e.id = egress_job.id
$$;
revoke all on function app_private.egress_job(id uuid) from public, anon, authenticated;
comment on function app_private.egress_job(id uuid) is
  'One egress as the stream_egresses__run job sees it, and the action it must take (start, poll, watch, stop, none).';
