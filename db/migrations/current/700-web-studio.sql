-- The web studio and viewer pages (issue 12): a stream's category and thumbnail (set with
-- set_stream_details), the broadcaster's earnings per current period, a gifter leaderboard by period
-- (gifter_stats, materialised by settlement like broadcaster_stats) and playback_health readable by
-- the stream's broadcaster. Re-runnable.

--!include streams/stream_categories.sql
--!include streams/stream_category_valid.sql
--!include streams/stream_thumbnail_url_valid.sql

alter table app_public.streams add column if not exists category text;
alter table app_public.streams add column if not exists thumbnail_url text;
alter table app_public.streams drop constraint if exists streams_category_check;
alter table app_public.streams add constraint streams_category_check
  check (category is null or app_hidden.stream_category_valid(category));
alter table app_public.streams drop constraint if exists streams_thumbnail_url_check;
alter table app_public.streams add constraint streams_thumbnail_url_check
  check (thumbnail_url is null or app_hidden.stream_thumbnail_url_valid(thumbnail_url));
comment on column app_public.streams.category is
  'What the stream is about: one of stream_categories() (just_chatting, music, ...), or null. Set with setStreamDetails.';
comment on column app_public.streams.thumbnail_url is
  'The picture shown for the stream in lists: an https:// URL or a path on this site, or null. Set with setStreamDetails.';

--!include streams/set_stream_details.sql
--!include streams/my_live_stream.sql

create table if not exists app_public.gifter_stats (
  gifter_id uuid not null references app_public.users (id) on delete restrict,
  period text not null check (period in ('day', 'week', 'month', 'all_time')),
  period_start timestamptz not null,
  coins bigint not null default 0,
  gifts bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (period, period_start, gifter_id),
  check (period_start = app_public.period_start(period, period_start))
);
create index if not exists gifter_stats_leaderboard_idx on app_public.gifter_stats (period, period_start, coins desc, gifter_id);
create index if not exists gifter_stats_gifter_id_idx on app_public.gifter_stats (gifter_id);
alter table app_public.gifter_stats enable row level security;
alter table app_public.gifter_stats force row level security;
comment on table app_public.gifter_stats is
  'Coins spent per gifter per period bucket (day, week, month, all_time; UTC), materialised by settlement (settled gifts, minus reversals). The gifter leaderboard reads only this.';

-- Gifts settled before this table existed (settled, not reversed), once.
insert into app_public.gifter_stats (gifter_id, period, period_start, coins, gifts)
select g.sender_id, p.period, app_public.period_start(p.period, g.created_at), sum(g.coins), sum(g.quantity)
  from app_private.gift_ledger g
  cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
 where exists (select 1 from app_private.gift_outcomes o where o.gift_ledger_id = g.id and o.outcome = 'settled')
   and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = g.id)
   and not exists (select 1 from app_public.gifter_stats)
 group by 1, 2, 3
on conflict do nothing;

--!include gifts/gifter_stats.access.sql
--!include gifts/process_gift_ledger_batch.sql
--!include gifts/reverse_gift.sql
--!include gifts/gift_audit.sql
--!include gifts/gifter_leaderboard.sql
--!include gifts/broadcaster_earnings.sql
--!include playback/playback_health_rows.sql
--!include playback/playback_health.sql

-- Viewers learn that a stream ended from the broadcast socket (players no longer poll).
--!include streams/tg_streams__publish_ended.sql
drop trigger if exists _600_publish_ended on app_public.streams;
create trigger _600_publish_ended after update of status on app_public.streams
  for each row when (old.status = 'live' and new.status = 'ended')
  execute function app_private.tg_streams__publish_ended();

-- Viewers ask to join the stage; managers see the requests and invite (an invitation clears one).
create table if not exists app_public.stream_seat_requests (
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (stream_id, user_id)
);
create index if not exists stream_seat_requests_user_id_idx on app_public.stream_seat_requests (user_id);
alter table app_public.stream_seat_requests enable row level security;
alter table app_public.stream_seat_requests force row level security;
comment on table app_public.stream_seat_requests is
  'Viewers who asked to join a stream''s stage (requestSeat / cancelSeatRequest); cleared by an invitation. Seen by the requester and the stage managers.';
--!include stage/stream_seat_requests.access.sql
--!include stage/request_seat.sql
--!include stage/cancel_seat_request.sql
--!include stage/tg_stream_seats__clear_request.sql
drop trigger if exists _600_clear_request on app_public.stream_seats;
create trigger _600_clear_request after insert on app_public.stream_seats
  for each row execute function app_private.tg_stream_seats__clear_request();
