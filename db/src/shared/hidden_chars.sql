create or replace function app_hidden.hidden_chars() returns text
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  -- One regular expression (PostgreSQL ARE) for every character a single line of user text may not
  -- contain (docs/security.md, "Text that lies"). Explicit code points, never [[:cntrl:]]: character
  -- classes above ASCII depend on the database locale.
  --   Cc controls U+0001-U+001F, U+007F-U+009F (tab and newlines too: single line)
  --   soft hyphen U+00AD; Arabic/Syriac format marks U+0600-U+0605, U+061C (ALM), U+06DD, U+070F,
  --   U+0890-U+0891, U+08E2; Mongolian vowel separator U+180E
  --   zero width U+200B (ZWSP), U+200C (ZWNJ), U+2060-U+2064 (word joiner, invisible operators), U+FEFF
  --   bidi marks and controls U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, deprecated U+206A-U+206F
  --   separators U+2028, U+2029; Hangul fillers U+115F, U+1160, U+3164, U+FFA0 (render as blanks)
  --   interlinear annotation U+FFF9-U+FFFB; noncharacters U+FFFE, U+FFFF; other format characters
  --   U+110BD, U+110CD, U+13430-U+1343F, U+1BCA0-U+1BCA3, U+1D173-U+1D17A; tags U+E0000-U+E007F
  --   U+200D (ZWJ) except between two emoji (👩‍💻, 🏳️‍🌈 are ZWJ sequences)
  select '[\u0001-\u001F\u007F-\u009F\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890-\u0891\u08E2\u115F\u1160\u180E'
    || '\u200B\u200C\u200E\u200F\u2028-\u202E\u2060-\u2064\u2066-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB\uFFFE\uFFFF'
    || '\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0000-\U000E007F]'
    || '|(?<![\u00A9\u00AE\u203C\u2049\u2122\u2139\u2194-\u21AA\u231A-\u23FF\u24C2\u25AA-\u27BF\u2934\u2935\u2B05-\u2B55'
    || '\u3030\u303D\u3297\u3299\uFE0F\U0001F000-\U0001FAFF])\u200D'
    || '|\u200D(?![\u00A9\u00AE\u203C\u2049\u2122\u2139\u2194-\u21AA\u231A-\u23FF\u24C2\u25AA-\u27BF\u2934\u2935\u2B05-\u2B55'
    || '\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF])'
$$;
revoke all on function app_hidden.hidden_chars() from public, anon, authenticated;
grant execute on function app_hidden.hidden_chars() to anon, authenticated;
comment on function app_hidden.hidden_chars() is
  'The regular expression matching every character single-line user text may not contain: controls, bidi controls, zero-width and invisible characters, line/paragraph separators, soft hyphen, tag characters (docs/security.md).';
