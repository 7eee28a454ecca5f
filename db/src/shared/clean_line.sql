create or replace function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer default 1) returns text
  language plpgsql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
declare
  v text := btrim(normalize(value, nfc),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000');
  v_bad text;
begin
  if v = '' then
    v := null;
  end if;
  if coalesce(char_length(v), 0) < min_chars or char_length(v) > max_chars then
    if min_chars > 0 then
      raise exception '% must be %-% characters', what, min_chars, max_chars using errcode = 'BADIN';
    end if;
    raise exception '% must be at most % characters', what, max_chars using errcode = 'BADIN';
  end if;
  v_bad := substring(v from app_hidden.hidden_chars());
  if v_bad is not null then
    raise exception '% contains an invisible or control character (U+%)', what, upper(lpad(to_hex(ascii(v_bad)), 4, '0'))
      using errcode = 'BADIN';
  end if;
  return v;
end;
$$;
revoke all on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) from public, anon, authenticated;
grant execute on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) to anon, authenticated;
comment on function app_hidden.clean_line(value text, what text, max_chars integer, min_chars integer) is
  'One line of user text, NFC-normalised and trimmed (null when blank), or BADIN naming the field: too short/long, or holding a character of app_hidden.hidden_chars() (the message names its code point).';
