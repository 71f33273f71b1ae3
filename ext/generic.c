/*
 * Generic rules any plugin's table can use in a CHECK constraint (URL, length in characters,
 * enumeration), and lintel_check(), which turns a rule's message into a 422 on a field.
 *
 * Requirements (cited below as G1..G6):
 * G1 like rules.c: NULL passes (requiredness is NOT NULL's job), a value breaking the rule
 *    gives a short lowercase message without the field name, and a value that is not TEXT
 *    "must be a string".
 * G2 lintel_rule_url(v): an absolute http or https URL: "http://" or "https://" (scheme in any
 *    case), a non-empty host up to the first '/', '?' or '#', at most 2048 bytes, no
 *    whitespace or control characters: else "must be an http or https URL".
 * G3 lintel_rule_length(v, min, max): the length in UTF-8 characters of v with leading and
 *    trailing whitespace (space, \t, \n, \v, \f, \r) trimmed lies in min..max: else "must not
 *    be blank" (min > 0 and nothing left), "must be at least min characters", "must be at most
 *    max characters". min and max are INTEGER, 0 <= min <= max, else an error.
 * G4 lintel_rule_enum(v, list): v is one of the space-separated words of list (exactly): else
 *    "must be one of: a, b, c". list is TEXT, else an error.
 * G5 lintel_check(field, message): 1 when message is NULL; otherwise the statement fails with
 *    the error "rule: <field>: <message>", which the server answers as a 422 whose errors[]
 *    names field: CHECK (lintel_check('url', lintel_rule_url(url))). field is an identifier.
 * G6 wrong argument types are errors naming the function and the argument (rules.c R8).
 */
#include "lintel_ext_int.h"

#include <string.h>

#define GENERIC_URL_MAX 2048

/* G1: argument 0 as text; 1 when the rule should go on, 0 when the result is already set. */
static int generic_text(sqlite3_context *ctx, sqlite3_value **argv, const unsigned char **s, int *n)
{
    int type = sqlite3_value_type(argv[0]);

    if (type == SQLITE_NULL)
        return 0;
    if (type != SQLITE_TEXT) {
        sqlite3_result_text(ctx, "must be a string", -1, SQLITE_STATIC);
        return 0;
    }
    *s = sqlite3_value_text(argv[0]);
    *n = sqlite3_value_bytes(argv[0]);
    if (*s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return 0;
    }
    return 1;
}

void ext_rule_url(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n, i, host;

    (void)argc;
    if (!generic_text(ctx, argv, &s, &n))
        return;
    if (sqlite3_strnicmp((const char *)s, "https://", 8) == 0)
        host = 8;
    else if (sqlite3_strnicmp((const char *)s, "http://", 7) == 0)
        host = 7;
    else
        host = -1;
    for (i = 0; host > 0 && i < n; i++)
        if (s[i] <= ' ' || s[i] == 0x7f)
            host = -1;
    if (host > 0 && (host == n || strchr("/?#", s[host]) != NULL))
        host = -1; /* G2: empty host */
    if (host < 0 || n > GENERIC_URL_MAX)
        sqlite3_result_text(ctx, "must be an http or https URL", -1, SQLITE_STATIC);
}

/* G6: argument i as an INTEGER >= 0; -1 after reporting the error. */
static sqlite3_int64 generic_count(sqlite3_context *ctx, const char *fn, sqlite3_value **argv,
                                   int i)
{
    int type = sqlite3_value_type(argv[i]);
    sqlite3_int64 v;

    if (type != SQLITE_INTEGER || (v = sqlite3_value_int64(argv[i])) < 0) {
        ext_error(ctx, "%s(): %s argument must be an INTEGER >= 0", fn, ext_ordinal(i + 1));
        return -1;
    }
    return v;
}

static int generic_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

void ext_rule_length(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_int64 min, max, chars = 0;
    const unsigned char *s;
    int n, a = 0, b, i;
    char *msg;

    (void)argc;
    min = generic_count(ctx, "lintel_rule_length", argv, 1);
    max = min < 0 ? -1 : generic_count(ctx, "lintel_rule_length", argv, 2);
    if (min < 0 || max < 0)
        return;
    if (min > max) {
        ext_error(ctx, "lintel_rule_length(): the 2nd argument is greater than the 3rd");
        return;
    }
    if (!generic_text(ctx, argv, &s, &n))
        return;
    b = n;
    while (a < b && generic_space(s[a]))
        a++;
    while (b > a && generic_space(s[b - 1]))
        b--;
    for (i = a; i < b; i++)
        chars += (s[i] & 0xC0) != 0x80;
    if (chars >= min && chars <= max)
        return;
    if (chars == 0)
        msg = sqlite3_mprintf("must not be blank");
    else if (chars < min)
        msg = sqlite3_mprintf("must be at least %lld characters", (long long)min);
    else
        msg = sqlite3_mprintf("must be at most %lld characters", (long long)max);
    if (msg == NULL)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_text(ctx, msg, -1, sqlite3_free);
}

void ext_rule_enum(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s, *list;
    int n, ln, at = 0;
    sqlite3_str *out;

    (void)argc;
    if (sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
        ext_error(ctx, "lintel_rule_enum(): 2nd argument is %s, not TEXT",
                  ext_type_name(sqlite3_value_type(argv[1])));
        return;
    }
    if (!generic_text(ctx, argv, &s, &n))
        return;
    list = sqlite3_value_text(argv[1]);
    ln = sqlite3_value_bytes(argv[1]);
    if (list == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    out = sqlite3_str_new(sqlite3_context_db_handle(ctx));
    sqlite3_str_appendall(out, "must be one of: ");
    while (at < ln) {
        int start, len;
        while (at < ln && list[at] == ' ')
            at++;
        start = at;
        while (at < ln && list[at] != ' ')
            at++;
        len = at - start;
        if (len == 0)
            continue;
        if (len == n && memcmp(list + start, s, (size_t)n) == 0) {
            sqlite3_free(sqlite3_str_finish(out));
            return; /* G4: a member */
        }
        if (sqlite3_str_length(out) > 16)
            sqlite3_str_appendall(out, ", ");
        sqlite3_str_append(out, (const char *)list + start, len);
    }
    if (sqlite3_str_errcode(out) != SQLITE_OK) {
        sqlite3_free(sqlite3_str_finish(out));
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_text(ctx, sqlite3_str_finish(out), -1, sqlite3_free);
}

void ext_check(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *field = sqlite3_value_text(argv[0]);
    int i;

    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT || field == NULL || field[0] == '\0') {
        ext_error(ctx, "lintel_check(): 1st argument must be the field name as TEXT");
        return;
    }
    for (i = 0; field[i] != '\0'; i++)
        if (!(field[i] == '_' || (field[i] >= 'a' && field[i] <= 'z') ||
              (field[i] >= 'A' && field[i] <= 'Z') ||
              (i > 0 && field[i] >= '0' && field[i] <= '9'))) {
            ext_error(ctx, "lintel_check(): 1st argument must be an identifier");
            return;
        }
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    ext_error(ctx, "rule: %s: %s", field, sqlite3_value_text(argv[1]));
}
