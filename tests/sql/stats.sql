-- Statistics aggregates and window functions: results, NULL skipping, empty sets, errors.
.mode list
.nullvalue NULL
CREATE TABLE n(id INTEGER PRIMARY KEY, g TEXT, v);
INSERT INTO n(g, v) VALUES ('a', 1), ('a', 2), ('a', 3), ('a', 4), ('a', NULL),
  ('b', 0.1), ('b', 0.2), ('c', 5), ('d', NULL);
-- All-INTEGER input prints sum, min and max as integers; avg, stddev, median are reals.
SELECT g, lintel_stats(v) FROM n GROUP BY g ORDER BY g;
SELECT lintel_stats(v) FROM n;
-- Empty set: count 0, sum 0, the rest null; the scalar aggregates give NULL.
SELECT lintel_stats(v), lintel_median(v), lintel_percentile(v, 50), lintel_stddev(v), lintel_variance(v) FROM n WHERE 0;
SELECT lintel_stats(v), lintel_median(v), lintel_stddev(v), lintel_variance(v) FROM n WHERE g = 'd';
-- One value: stddev and variance need two.
SELECT lintel_median(v), lintel_stddev(v), lintel_variance(v), lintel_percentile(v, 90) FROM n WHERE g = 'c';
-- Sample variance and stddev against the definition.
SELECT lintel_variance(v), lintel_stddev(v), lintel_stddev(v) = sqrt(lintel_variance(v)) FROM n WHERE g = 'a';
-- Median of odd and even counts; percentile by linear interpolation between closest ranks.
WITH t(v) AS (VALUES (3), (1), (2)) SELECT lintel_median(v) FROM t;
WITH t(v) AS (VALUES (10), (20), (30), (40)) SELECT lintel_median(v), lintel_percentile(v, 0), lintel_percentile(v, 25), lintel_percentile(v, 100), lintel_percentile(v, 12.5) FROM t;
WITH t(v) AS (VALUES (1), (1), (1), (2)) SELECT lintel_median(v), lintel_percentile(v, 75), lintel_percentile(v, 90) FROM t;
-- Shortest round-trip text in the JSON: 0.1 stays 0.1, integral reals keep .0.
WITH t(v) AS (VALUES (0.1)) SELECT lintel_stats(v) FROM t;
WITH t(v) AS (VALUES (2.0), (4)) SELECT lintel_stats(v) FROM t;
-- Positional text for exponents -4..15, as the host's JSON prints them (never 1e+02).
WITH t(v) AS (VALUES (100.0), (300.0)) SELECT lintel_stats(v) FROM t;
WITH t(v) AS (VALUES (1e15), (0.00025)) SELECT lintel_stats(v) FROM t;
WITH t(v) AS (VALUES (1e16), (1e-5)) SELECT lintel_stats(v) FROM t;
-- Compensated sum: a million tiny values added to a big one are not lost.
WITH RECURSIVE t(i, v) AS (VALUES (0, 1e16) UNION ALL SELECT i + 1, 1.0 FROM t WHERE i < 1000)
  SELECT lintel_stats(v) ->> '$.sum', sum(v), lintel_stats(v) ->> '$.count' FROM t;
-- Welford: a huge offset does not destroy the variance (naive sum of squares gives 0 or junk).
WITH t(v) AS (VALUES (1e9 + 4), (1e9 + 7), (1e9 + 13), (1e9 + 16)) SELECT lintel_variance(v), lintel_stats(v) ->> '$.stddev' FROM t;
-- Integers beyond the 64-bit range in the sum switch to a (compensated) double sum.
WITH t(v) AS (VALUES (9223372036854775807), (9223372036854775807)) SELECT lintel_stats(v) FROM t;
WITH t(v) AS (VALUES (-9223372036854775808), (1)) SELECT lintel_stats(v) FROM t;
-- Big and tiny magnitudes.
WITH t(v) AS (VALUES (1e308), (1e308)) SELECT lintel_stats(v) FROM t;
WITH t(v) AS (VALUES (5e-324), (1e-320)) SELECT lintel_stats(v) FROM t;
-- Tiny values: the squares underflow, the deviation does not (7.0675e-321 rounds to 7.065e-321).
WITH t(v) AS (VALUES (5e-324), (1e-320)) SELECT lintel_stddev(v) > 0, lintel_stddev(v) = 7.065e-321, lintel_variance(v) FROM t;
WITH t(v) AS (VALUES (-1.7976931348623157e308), (1.7976931348623157e308)) SELECT lintel_median(v) FROM t;
-- Infinities are accepted; a non-finite result is null in JSON.
WITH t(v) AS (VALUES (1), (1e400)) SELECT lintel_stats(v), lintel_median(v) FROM t;
WITH t(v) AS (VALUES (-1e400), (1e400)) SELECT lintel_stats(v), lintel_median(v) FROM t;
-- The JSON is valid and json1 reads it.
SELECT json_valid(lintel_stats(v)), lintel_stats(v) ->> '$.median' FROM n;
-- Window functions: sliding frames use the inverse step.
SELECT id, v, lintel_median(v) OVER w, lintel_stddev(v) OVER w, lintel_variance(v) OVER w, lintel_percentile(v, 50) OVER w
  FROM n WHERE g = 'a' WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING);
SELECT id, lintel_stats(v) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM n WHERE g IN ('a', 'b');
SELECT id, lintel_stats(v) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 2 FOLLOWING) FROM n WHERE g = 'a';
SELECT g, id, lintel_median(v) OVER (PARTITION BY g ORDER BY id) FROM n WHERE g IN ('a', 'b');
-- A window frame and the aggregate over the same values give the same digits.
SELECT lintel_stddev(v) OVER w = (SELECT lintel_stddev(v) FROM n WHERE g = 'b'),
       lintel_stats(v) OVER w = (SELECT lintel_stats(v) FROM n WHERE g = 'b'),
       lintel_stats(v) OVER w ->> '$.stddev'
  FROM n WHERE g IN ('a', 'b') WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY id DESC LIMIT 1;
-- A frame that empties after holding values starts afresh.
WITH t(i, v) AS (VALUES (1, 2.5), (2, NULL), (3, NULL), (4, 7))
  SELECT i, lintel_stats(v) OVER (ORDER BY i ROWS BETWEEN CURRENT ROW AND CURRENT ROW) FROM t;
-- Inverse with duplicates removes one occurrence.
WITH t(i, v) AS (VALUES (1, 5), (2, 5), (3, 1), (4, 9))
  SELECT i, lintel_median(v) OVER (ORDER BY i ROWS 1 PRECEDING) FROM t;
-- Errors name the function.
SELECT lintel_stats(v) FROM (SELECT 1 AS v UNION ALL SELECT 'x');
SELECT lintel_median(x'00');
SELECT lintel_stddev('1.5');
SELECT lintel_variance(v) FROM (SELECT 1 AS v UNION ALL SELECT x'01');
SELECT lintel_percentile(1, 101);
SELECT lintel_percentile(1, -0.5);
SELECT lintel_percentile(1, '50');
SELECT lintel_percentile(v, v) FROM n WHERE g = 'a';
SELECT lintel_percentile(v, NULL) FROM n;
-- An even count's median is the midpoint (a + b) / 2, as a client computes it (not 2.3000000000000003).
SELECT lintel_median(v), json_extract(lintel_stats(v), '$.median') FROM (SELECT 0.1 AS v UNION ALL SELECT 4.5);
-- The squares overflow but the deviation does not: stddev stays finite.
SELECT json_extract(lintel_stats(v), '$.stddev') FROM (SELECT 1e300 AS v UNION ALL SELECT 1);
SELECT lintel_stddev(v) FROM (SELECT 1e300 AS v UNION ALL SELECT 1);
