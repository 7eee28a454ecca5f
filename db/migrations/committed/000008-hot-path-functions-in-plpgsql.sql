--! Previous: sha1:ec95ea46f2b966b4423bb149f027818d216940c4
--! Hash: sha1:f51561dbb0724b0e30529fb3729c632eaa44daaa
--! Message: hot path functions in plpgsql

--! split: 500-hot-paths.sql
-- Hot-path helpers in plpgsql. Measured (scripts of docs/benchmarks.md, PostgreSQL 15): a non-inlined
-- SQL-language function — and every function with `set search_path` is non-inlined — is parsed and
-- planned again on every call (85–95 µs each for publish_stream_event and gift_setting, a third of
-- send_gift's cost), while plpgsql caches its plans per session. Same signatures and behaviour.

create or replace function app_public.current_user_id() returns uuid
  language plpgsql stable parallel safe
  set search_path = ''
as $$
begin
  return nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', '')::uuid;
end;
$$;

create or replace function app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) returns void
  language plpgsql volatile
  set search_path = ''
as $$
begin
  insert into app_private.stream_events (stream_id, kind, payload)
    values (publish_stream_event.stream_id, publish_stream_event.kind, publish_stream_event.payload);
end;
$$;

create or replace function app_private.gift_setting(key text, fallback integer) returns integer
  language plpgsql stable
  set search_path = ''
as $$
declare
  v_value integer;
begin
  select s.value::integer into v_value from app_private.settings s where s.key = gift_setting.key;
  return coalesce(v_value, fallback);
end;
$$;

create or replace function app_hidden.can_moderate_stream(stream_id uuid) returns boolean
  language plpgsql stable
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
begin
  return exists (select 1 from app_public.streams s where s.id = can_moderate_stream.stream_id and s.broadcaster_id = v_uid)
      or exists (select 1 from app_public.users u where u.id = v_uid and u.role in ('moderator', 'admin'));
end;
$$;

create or replace function app_public.livekit_grant(stream_id uuid) returns app_public.livekit_grant
  language plpgsql stable
  security definer
  set search_path = ''
as $$
begin
  return app_private.livekit_grant_for(livekit_grant.stream_id, app_public.current_user_id());
end;
$$;

create or replace function app_public.streams_viewer_count(s app_public.streams) returns integer
  language plpgsql stable
  security definer
  set search_path = ''
as $$
begin
  return (select coalesce(sum(p.viewers), 0)::int
            from app_private.presence_counts p
           where p.stream_id = s.id and p.updated_at > now() - interval '15 seconds');
end;
$$;
