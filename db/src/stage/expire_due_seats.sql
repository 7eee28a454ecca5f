create or replace function app_private.expire_due_seats(stream_id uuid) returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  update app_public.stream_seats s
     set status = 'expired', ended_at = now(), end_reason = 'expired'
   where s.stream_id = expire_due_seats.stream_id and s.status in ('invited', 'active') and s.expires_at <= now();
$$;
revoke all on function app_private.expire_due_seats(stream_id uuid) from public, anon, authenticated;
comment on function app_private.expire_due_seats(stream_id uuid) is
  'Marks a stream''s overdue open seats expired (before new seats take slots).';
