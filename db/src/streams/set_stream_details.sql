create or replace function app_public.set_stream_details(stream_id uuid, title text, category text default null, thumbnail_url text default null)
  returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_category text := nullif(btrim(category), '');
  v_thumb text := nullif(btrim(thumbnail_url), '');
begin
  if v_uid is null then
    raise exception 'sign in to change a stream' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = set_stream_details.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may change stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if title is null or char_length(btrim(title)) not between 1 and 140 then
    raise exception 'title must be 1-140 characters' using errcode = 'BADIN';
  end if;
  if v_category is not null and not app_hidden.stream_category_valid(v_category) then
    raise exception 'category must be one of %', array_to_string(app_public.stream_categories(), ', ') using errcode = 'BADIN';
  end if;
  if v_thumb is not null and not app_hidden.stream_thumbnail_url_valid(v_thumb) then
    raise exception 'thumbnail URL must be an https:// URL or a path on this site (/...), at most 2000 characters without spaces'
      using errcode = 'BADIN';
  end if;
  update app_public.streams s
     set title = btrim(set_stream_details.title), category = v_category, thumbnail_url = v_thumb
   where s.id = v_stream.id
  returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) from public, anon, authenticated;
grant execute on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) to authenticated;
comment on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) is
  'Sets a live stream''s title, category (one of stream_categories(), or null) and thumbnail URL (https:// or a site path, or null). Broadcaster or admin. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';
