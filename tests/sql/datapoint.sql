-- lintel_datapoint_tags and lintel_datapoint_valid: the "too old" rule and validity.
.mode list
.nullvalue NULL
-- api.md's point, ingested 10 s and 2 h after its time.
SELECT lintel_datapoint_tags('["system"]', 1713798477, 1713798487);
SELECT lintel_datapoint_tags('["system"]', 1713798477, 1713798477 + 7200);
-- The boundary is strict: exactly max_age old is not too old.
SELECT lintel_datapoint_tags('[]', 0, 3600), lintel_datapoint_tags('[]', 0, 3601);
SELECT lintel_datapoint_tags('[]', 0, 60, 60), lintel_datapoint_tags('[]', 0, 61, 60), lintel_datapoint_tags('[]', 0, 1, 0);
-- Points from the future are not too old; REAL times work too.
SELECT lintel_datapoint_tags('["a"]', 5000, 0), lintel_datapoint_tags('["a"]', 0.5, 3600.75);
-- Appended once: a tag already present is not repeated. Output is compact, escapes kept.
SELECT lintel_datapoint_tags('[ "too old" , "x" ]', 0, 99999);
SELECT lintel_datapoint_tags(' [ "a\"b" ,"c\\d", "\u00e9\ud83d\ude00", "tab\t" ] ', 0, 99999);
SELECT lintel_datapoint_tags('["too \u006fld"]', 0, 99999);
-- With the current time, as the ingesting plugin calls it.
SELECT lintel_datapoint_tags('[]', unixepoch() - 3601, unixepoch()), lintel_datapoint_tags('[]', unixepoch() - 5, unixepoch());
-- The output is valid JSON that json1 reads back.
SELECT json_valid(lintel_datapoint_tags('["a\"b","\u0000"]', 0, 99999)), json_array_length(lintel_datapoint_tags('["x"]', 0, 99999));
-- NULL in any argument gives NULL.
SELECT lintel_datapoint_tags(NULL, 0, 0), lintel_datapoint_tags('[]', NULL, 0), lintel_datapoint_tags('[]', 0, NULL), lintel_datapoint_tags('[]', 0, 0, NULL);
-- valid: 0 when any tag is exactly system, suspect, too old or not finite.
SELECT lintel_datapoint_valid('[]'), lintel_datapoint_valid('["ok","sensor-7"]'), lintel_datapoint_valid(NULL);
SELECT lintel_datapoint_valid('["system"]'), lintel_datapoint_valid('["x","suspect"]'), lintel_datapoint_valid('["too old"]'), lintel_datapoint_valid('["not finite"]');
SELECT lintel_datapoint_valid('["System"]'), lintel_datapoint_valid('["system "]'), lintel_datapoint_valid('["systems"]'), lintel_datapoint_valid('["sys"]');
SELECT lintel_datapoint_valid('["\u0073ystem"]'), lintel_datapoint_valid('["sus\/pect"]');
SELECT lintel_datapoint_valid(lintel_datapoint_tags('["ok"]', 0, 99999));
-- Errors name the function and what was wrong.
SELECT lintel_datapoint_tags('{"a":1}', 0, 0);
SELECT lintel_datapoint_tags('', 0, 0);
SELECT lintel_datapoint_tags('["a",1]', 0, 0);
SELECT lintel_datapoint_tags('["a",]', 0, 0);
SELECT lintel_datapoint_tags('["a"', 0, 0);
SELECT lintel_datapoint_tags('["a"] []', 0, 0);
SELECT lintel_datapoint_tags('["a' || char(10) || '"]', 0, 0);
SELECT lintel_datapoint_tags('["\x"]', 0, 0);
SELECT lintel_datapoint_tags('["\ud800"]', 0, 0);
SELECT lintel_datapoint_tags('["\udc00"]', 0, 0);
SELECT lintel_datapoint_tags('["\u12g4"]', 0, 0);
SELECT lintel_datapoint_tags(x'5b5d', 0, 0);
SELECT lintel_datapoint_tags('[]', '0', 0);
SELECT lintel_datapoint_tags('[]', 0, x'00');
SELECT lintel_datapoint_tags('[]', 0, 1e400);
SELECT lintel_datapoint_tags('[]', 0, 0, -1);
SELECT lintel_datapoint_valid('[null]');
SELECT lintel_datapoint_valid(7);
SELECT lintel_datapoint_valid('["a" "b"]');
