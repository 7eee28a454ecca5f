create or replace function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer default 1) returns text
  language plpgsql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
declare
  r record;
begin
  select * into r from app_hidden.line_problem(value, what, max_chars, min_chars);
  if r.problem is not null then
    raise exception '%', r.problem using errcode = 'BADIN';
  end if;
  return r.line;
end;
$$;
revoke all on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) from public, anon, authenticated;
grant execute on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) to anon, authenticated;
comment on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) is
  'One line of user text, NFC-normalised and trimmed (null when blank), or BADIN naming the field: too short/long, or holding a character of app_hidden.hidden_chars() (the message names its code point).';
