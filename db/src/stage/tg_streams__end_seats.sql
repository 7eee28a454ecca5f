create or replace function app_private.tg_streams__end_seats() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  update app_public.stream_seats s
     set status = 'ended', ended_at = now(), end_reason = 'stream ended'
   where s.stream_id = new.id and s.status in ('invited', 'active');
  return null;
end;
$$;
revoke all on function app_private.tg_streams__end_seats() from public, anon, authenticated;
comment on function app_private.tg_streams__end_seats() is
  'Ends every open seat when its stream ends.';
