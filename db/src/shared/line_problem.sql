create or replace function app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer default 1)
  returns table (line text, problem text)
  language plpgsql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
-- The single-line text rule without raising (for batch functions that answer each request): the
-- line NFC-normalised and trimmed (null when blank), and why it is refused (null when it is not).
-- app_hidden.clean_line raises with the same message.
declare
  v_bad text;
begin
  line := nullif(btrim(normalize(value, nfc),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '');
  if coalesce(char_length(line), 0) < min_chars or char_length(line) > max_chars then
    problem := case when min_chars > 0 then format('%s must be %s-%s characters', what, min_chars, max_chars)
                    else format('%s must be at most %s characters', what, max_chars) end;
  else
    v_bad := substring(line from app_hidden.hidden_chars());
    if v_bad is not null then
      problem := format('%s contains an invisible or control character (U+%s)', what, upper(lpad(to_hex(ascii(v_bad)), 4, '0')));
    end if;
  end if;
  return next;
end;
$$;
revoke all on function app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) from public, anon, authenticated;
grant execute on function app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) to anon, authenticated;
comment on function app_hidden.line_problem(value text, what text, max_chars integer, min_chars integer) is
  'One line of user text, NFC-normalised and trimmed (null when blank), and the BADIN message it would get (null when it is fine): the rule of app_hidden.clean_line, for callers that must not raise.';
