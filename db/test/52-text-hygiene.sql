-- Security: text that lies (finding 7). Every single-line text field refuses control, bidi, zero-width,
-- separator, soft-hyphen and tag characters (BADIN from the functions, a CHECK on the columns), stores
-- NFC, and still takes real text in any script and emoji ZWJ sequences.
begin;
select plan(52);

-- One sample per character class, inside a word (edges are trimmed).
create table tests.t_bad (class text primary key, ch text);
insert into t_bad values
  ('C0 control (BEL)', E'\x07'), ('tab', E'\t'), ('newline', E'\n'), ('DEL', E'\x7F'), ('C1 control (NEL)', E'\u0085'),
  ('bidi override RLO U+202E', E'\u202E'), ('bidi embedding LRE U+202A', E'\u202A'), ('bidi isolate LRI U+2066', E'\u2066'),
  ('Arabic letter mark U+061C', E'\u061C'), ('LRM U+200E', E'\u200E'), ('RLM U+200F', E'\u200F'),
  ('zero width space U+200B', E'\u200B'), ('ZWNJ U+200C', E'\u200C'), ('ZWJ outside emoji U+200D', E'\u200D'),
  ('word joiner U+2060', E'\u2060'), ('BOM U+FEFF', E'\uFEFF'),
  ('line separator U+2028', E'\u2028'), ('paragraph separator U+2029', E'\u2029'), ('soft hyphen U+00AD', E'\u00AD'),
  ('tag LATIN A U+E0041', E'\U000E0041'), ('language tag U+E0001', E'\U000E0001'), ('cancel tag U+E007F', E'\U000E007F'),
  ('Hangul filler U+3164', E'\u3164'), ('interlinear annotation U+FFF9', E'\uFFF9');
grant select on t_bad to public;

-- The SQLSTATE a statement raises as the current role (null when it succeeds).
create function tests.sqlstate_of(statement text) returns text language plpgsql as $$
begin
  execute statement;
  return null;
exception when others then
  return sqlstate;
end;
$$;
grant execute on function tests.sqlstate_of(text) to public;
-- The classes of t_bad a statement template (%L = 'ab<char>cd') does not refuse with `want`.
create function tests.not_refused(template text, want text) returns text[] language sql as $$
  select array_agg(class order by class) from t_bad
   where tests.sqlstate_of(format(template, 'ab' || ch || 'cd')) is distinct from want
$$;
grant execute on function tests.not_refused(text, text) to public;

select tests.create_user('host', 'broadcaster');
select tests.create_user('host2', 'broadcaster');
select tests.create_user('alice');
select tests.create_user('bob');
create table tests.t_ids as
  select (select id from app_public.users where username = 'host') as host,
         (select id from app_public.users where username = 'host2') as host2,
         (select id from app_public.users where username = 'alice') as alice,
         (select id from app_public.users where username = 'bob') as bob;
grant select on t_ids to public;
select tests.act_as((select host from t_ids));
select app_public.go_live('Text show');
select tests.act_as_owner();
alter table t_ids add column stream_id uuid;
update t_ids set stream_id = (select id from app_public.streams where title = 'Text show');
select tests.act_as((select host from t_ids));
select app_public.invite_to_seat((select stream_id from t_ids), (select bob from t_ids));
select tests.act_as_owner();
alter table t_ids add column seat_id uuid;
update t_ids set seat_id = (select id from app_public.stream_seats where user_id = (select bob from t_ids));

-- Chat body: one test per class (the field the finding is about), then the positive cases.
select tests.act_as((select alice from t_ids));
select is(tests.sqlstate_of(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), 'ab' || ch || 'cd')), 'BADIN',
          'chat refuses ' || class)
  from t_bad order by class;
select throws_ok(format('select app_public.send_chat_message(%L, %L)', (select stream_id from t_ids), E'evil\u202Etxt.exe'), 'BADIN',
  'chat message contains an invisible or control character (U+202E)', 'the message names the code point');
select is((app_public.send_chat_message((select stream_id from t_ids), E'cafe\u0301 \U0001F469\u200D\U0001F4BB \U0001F3F3\uFE0F\u200D\U0001F308')).body,
  E'caf\u00E9 \U0001F469\u200D\U0001F4BB \U0001F3F3\uFE0F\u200D\U0001F308', 'chat stores NFC and keeps emoji ZWJ sequences');
select is((app_public.send_chat_message((select stream_id from t_ids), 'שלום مرحبا 日本語 Ελληνικά')).body, 'שלום مرحبا 日本語 Ελληνικά',
  'chat takes Hebrew, Arabic, CJK and Greek');
select is(tests.not_refused(format('select app_public.send_chat_message(%L, ''hi'', %%L)', (select stream_id from t_ids)), 'BADIN'), null,
  'chat client_id refuses every class');

-- Every other field, through the function or statement the API exposes, as the role that uses it.
select is(tests.not_refused(format('update app_public.users set display_name = %%L where id = %L', (select alice from t_ids)), 'BADIN'), null,
  'display name (updateUser) refuses every class');
select is(tests.not_refused('select app_public.set_vehicle_status(%L)', 'BADIN'), null, 'vehicle status (setVehicleStatus) refuses every class');
select is(tests.not_refused(format('update app_public.users set vehicle_status = %%L where id = %L', (select alice from t_ids)), 'BADIN'), null,
  'vehicle status (updateUser) refuses every class');
select throws_ok(format('update app_public.users set avatar_url = %L where id = %L', E'https://evil.example/\u202Egnp.exe', (select alice from t_ids)),
  'BADIN', null, 'an avatar URL is printable ASCII only');
update app_public.users set display_name = E'  Zoe\u0308  ' where id = (select alice from t_ids);
select is((select display_name from app_public.users where id = (select alice from t_ids)), E'Zo\u00EB', 'a display name is stored trimmed and NFC');
select tests.act_as((select host2 from t_ids));
select is(tests.not_refused('select app_public.go_live(%L)', 'BADIN'), null, 'stream title (goLive) refuses every class');
select is((app_public.go_live(E'  \U0001F3AE Late night cafe\u0301  ')).title, E'\U0001F3AE Late night caf\u00E9', 'a title is stored trimmed and NFC');
select tests.act_as((select host from t_ids));
select is(tests.not_refused(format('select app_public.ban_user(%L, %L, %%L)', (select stream_id from t_ids), (select bob from t_ids)), 'BADIN'), null,
  'ban reason refuses every class');
select is(tests.not_refused(format('select app_public.mute_user(%L, %L, 60, %%L)', (select stream_id from t_ids), (select bob from t_ids)), 'BADIN'), null,
  'mute reason refuses every class');
select is(tests.not_refused(format('select app_public.revoke_seat(%L, %%L)', (select seat_id from t_ids)), 'BADIN'), null,
  'seat revoke reason refuses every class');
select tests.act_as((select alice from t_ids));
select app_public.send_chat_message((select stream_id from t_ids), 'delete me');
select tests.act_as_owner();
alter table t_ids add column message_id bigint;
update t_ids set message_id = (select max(id) from app_private.chat_messages);
select tests.act_as((select host from t_ids));
select is(tests.not_refused(format('select app_public.delete_chat_message(%s, %%L)',
  (select message_id from t_ids)), 'BADIN'), null, 'message deletion reason refuses every class');
select ok(app_public.delete_chat_message((select message_id from t_ids), E'spam \U0001F6AB'), 'a clean reason is taken');
select is((select reason from app_public.moderation_actions where action = 'delete_message'), E'spam \U0001F6AB', 'and logged');
select tests.act_as_anon();
select is(tests.not_refused('select app_public.register(''newbie'', %L || ''@example.com'', ''correct horse battery'')', 'BADIN'), null,
  'register refuses an e-mail address with any class');

-- The CHECK constraints hold even for writers that skip the functions (the owner, with triggers off).
select tests.act_as_owner();
alter table app_public.users disable trigger _200_clean_text;
select is(tests.not_refused(format('update app_public.users set display_name = %%L where id = %L', (select bob from t_ids)), '23514'), null,
  'CHECK users.display_name');
select is(tests.not_refused(format('update app_public.users set vehicle_status = %%L where id = %L', (select bob from t_ids)), '23514'), null,
  'CHECK users.vehicle_status');
select is(tests.sqlstate_of(format('update app_public.users set display_name = %L where id = %L', E'Zoe\u0308', (select bob from t_ids))), '23514',
  'CHECK users.display_name: NFC only');
alter table app_public.users enable trigger _200_clean_text;
select is(tests.not_refused(format('update app_public.streams set title = %%L where id = %L', (select stream_id from t_ids)), '23514'), null,
  'CHECK streams.title');
select is(tests.not_refused(format('update app_public.stream_seats set end_reason = %%L where id = %L', (select seat_id from t_ids)), '23514'), null,
  'CHECK stream_seats.end_reason');
select is(tests.not_refused(format('insert into app_public.stream_bans (stream_id, user_id, banned_by, reason) values (%L, %L, %L, %%L)',
  (select stream_id from t_ids), (select alice from t_ids), (select host from t_ids)), '23514'), null, 'CHECK stream_bans.reason');
select is(tests.not_refused(format('insert into app_public.stream_mutes (stream_id, user_id, muted_by, reason) values (%L, %L, %L, %%L)',
  (select stream_id from t_ids), (select alice from t_ids), (select host from t_ids)), '23514'), null, 'CHECK stream_mutes.reason');
select is(tests.not_refused(format('insert into app_public.moderation_actions (stream_id, actor_id, action, reason) values (%L, %L, ''mute'', %%L)',
  (select stream_id from t_ids), (select host from t_ids)), '23514'), null, 'CHECK moderation_actions.reason');
select is(tests.not_refused('insert into app_public.gifts (slug, name, coin_price, art_url) values (''zz-test'', %L, 1, ''/zz.png'')', '23514'), null,
  'CHECK gifts.name');
select is(tests.not_refused(format('insert into app_private.chat_messages (stream_id, sender_id, body, sender) values (%L, %L, %%L, ''{}'')',
  (select stream_id from t_ids), (select alice from t_ids)), '23514'), null, 'CHECK chat_messages.body');

select * from finish();
rollback;
