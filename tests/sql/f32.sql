-- lintel_f32_decode: documented examples, byte orders, special values, every error.
.mode list
.nullvalue NULL
-- api.md's example, both input forms; the shell prints 15 digits, printf shows all 17.
SELECT lintel_f32_decode(x'9d2a4cbe');
SELECT printf('%!.17g', lintel_f32_decode(x'9d2a4cbe'));
SELECT printf('%!.17g', lintel_f32_decode('[157,42,76,190]'));
SELECT printf('%!.17g', lintel_f32_decode('[157,42,76,190]', 'le'));
SELECT printf('%!.17g', lintel_f32_decode(x'be4c2a9d', 'be'));
SELECT printf('%!.17g', lintel_f32_decode('[190,76,42,157]', 'be'));
-- JSON whitespace is allowed anywhere between tokens.
SELECT lintel_f32_decode(' [ 0 ,0,' || char(10) || ' 128, 63 ]' || char(9));
-- Exact values: 1, -2, 0.5, 0, -0, the largest finite, the smallest normal and subnormal.
SELECT lintel_f32_decode(x'0000803f'), lintel_f32_decode(x'000000c0'), lintel_f32_decode(x'0000003f');
SELECT lintel_f32_decode(x'00000000'), lintel_f32_decode(x'00000080'), printf('%e', lintel_f32_decode(x'00000080'));
SELECT printf('%!.17g', lintel_f32_decode(x'ffff7f7f'));
SELECT printf('%!.17g', lintel_f32_decode(x'00008000'));
SELECT printf('%!.17g', lintel_f32_decode(x'01000000'));
SELECT lintel_f32_decode(x'01000000') = pow(2, -149);
-- Infinities come back as such; every NaN (quiet, signalling, negative, any payload) is NULL.
SELECT lintel_f32_decode(x'0000807f'), lintel_f32_decode(x'000080ff');
SELECT lintel_f32_decode(x'0000c07f'), lintel_f32_decode(x'0100807f'), lintel_f32_decode(x'ffffffff');
SELECT lintel_f32_decode('[0,0,192,127]') IS NULL;
-- NULL in, NULL out, for either argument.
SELECT lintel_f32_decode(NULL), lintel_f32_decode(NULL, 'be'), lintel_f32_decode(x'0000803f', NULL);
-- Flags: usable in a CHECK constraint and a generated column.
CREATE TABLE p(b BLOB CHECK (length(b) = 4), v REAL GENERATED ALWAYS AS (lintel_f32_decode(b)) STORED);
INSERT INTO p(b) VALUES (x'9d2a4cbe'), (x'0000803f');
SELECT hex(b), v FROM p ORDER BY v;
-- Errors: each says what it found.
SELECT lintel_f32_decode(x'');
SELECT lintel_f32_decode(x'9d2a4c');
SELECT lintel_f32_decode(x'9d2a4cbe00');
SELECT lintel_f32_decode('[157,42,76]');
SELECT lintel_f32_decode('[157,42,76,190,1]');
SELECT lintel_f32_decode('[]');
SELECT lintel_f32_decode('[157,42,256,190]');
SELECT lintel_f32_decode('[157,-1,76,190]');
SELECT lintel_f32_decode('[157,42,76,99999999999999999999999999999999]');
SELECT lintel_f32_decode('[157,42.0,76,190]');
SELECT lintel_f32_decode('[157,4e1,76,190]');
SELECT lintel_f32_decode('[157,042,76,190]');
SELECT lintel_f32_decode('[157,"42",76,190]');
SELECT lintel_f32_decode('[157,42,76,190');
SELECT lintel_f32_decode('[157,42,76,190] x');
SELECT lintel_f32_decode('[157 42,76,190]');
SELECT lintel_f32_decode('[157,,76,190]');
SELECT lintel_f32_decode('157,42,76,190');
SELECT lintel_f32_decode('');
SELECT lintel_f32_decode(1);
SELECT lintel_f32_decode(1.5);
SELECT lintel_f32_decode(x'9d2a4cbe', 'LE');
SELECT lintel_f32_decode(x'9d2a4cbe', 1);
