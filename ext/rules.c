/*
 * The business rules of ../shared/api.md as SQL functions: NULL when a value satisfies the
 * rule, else the short message the API puts in its 422 body. CHECK constraints use them too.
 *
 * Requirements (cited below as R1..R8):
 * R1 a rule returns NULL for NULL: requiredness is the job of NOT NULL (so the schema and
 *    the API agree), and a CHECK over NULL must pass anyway (SQL CHECK semantics).
 * R2 messages are lowercase, without the field name, e.g. "must be greater than 0".
 * R3 username: 3..64 characters of [A-Za-z0-9._@+-].
 * R4 email: at most 254 characters, one '@', a non-empty local part, a domain with a dot
 *    that neither starts nor ends with one nor has two in a row, no whitespace or controls.
 * R5 password: 8..128 characters (UTF-8 characters, not bytes); an optional 2nd argument
 *    lowers (or raises) the minimum, 1..128. Never truncated: too long is refused.
 * R6 number: an INTEGER, or a finite REAL, strictly greater than 0. TEXT and BLOB are refused
 *    even when they look numeric ("5" is not a number in JSON).
 * R7 task title: 1..200 characters after trimming whitespace; description: at most 10000.
 * R8 a value of the wrong storage class "must be a string"; a wrong 2nd argument is an error.
 */
#include "lintel_ext_int.h"

#include <math.h>
#include <string.h>

#define RULE_USERNAME_MIN    3
#define RULE_USERNAME_MAX    64
#define RULE_EMAIL_MAX       254
#define RULE_PASSWORD_MIN    8
#define RULE_PASSWORD_MAX    128
#define RULE_TITLE_MAX       200
#define RULE_DESCRIPTION_MAX 10000

/* UTF-8 characters in s[0..n): every byte that is not a continuation byte starts one. */
static int rules_utf8_len(const unsigned char *s, int n)
{
    int count = 0;
    int i;

    for (i = 0; i < n; i++)
        count += (s[i] & 0xC0) != 0x80;
    return count;
}

static void rules_fail(sqlite3_context *ctx, const char *msg)
{
    sqlite3_result_text(ctx, msg, -1, SQLITE_STATIC);
}

/*
 * The text of a rule's value: 0 with *s and *n set, 1 when the result is already set
 * (NULL for NULL per R1, "must be a string" per R8, or out of memory).
 */
static int rules_text(sqlite3_context *ctx, sqlite3_value *v, const unsigned char **s, int *n)
{
    int type = sqlite3_value_type(v);

    if (type == SQLITE_NULL)
        return 1;
    if (type != SQLITE_TEXT) {
        rules_fail(ctx, "must be a string");
        return 1;
    }
    *s = sqlite3_value_text(v);
    *n = sqlite3_value_bytes(v);
    if (*s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return 1;
    }
    return 0;
}

void ext_rule_username(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n;
    int i;

    (void)argc;
    if (rules_text(ctx, argv[0], &s, &n) != 0)
        return;
    for (i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '+' || c == '-')) {
            rules_fail(ctx, "must contain only letters, digits and . _ @ + -");
            return;
        }
    }
    /* R3: all allowed characters are ASCII, so bytes are characters */
    if (n < RULE_USERNAME_MIN)
        rules_fail(ctx, "must be at least 3 characters");
    else if (n > RULE_USERNAME_MAX)
        rules_fail(ctx, "must be at most 64 characters");
}

/* R4. Returns NULL when s[0..n) is a usable address, else the message. */
static const char *rules_email_check(const unsigned char *s, int n)
{
    int at = -1;
    int i;

    if (rules_utf8_len(s, n) > RULE_EMAIL_MAX)
        return "must be at most 254 characters";
    for (i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] == 0x7F)
            return "must be a valid email address";
        if (s[i] == '@') {
            if (at >= 0)
                return "must be a valid email address";
            at = i;
        }
    }
    if (at <= 0 || at == n - 1)
        return "must be a valid email address";
    {
        const unsigned char *d = s + at + 1;
        int dn = n - at - 1;
        int dot = 0;

        if (d[0] == '.' || d[dn - 1] == '.')
            return "must be a valid email address";
        for (i = 0; i < dn; i++) {
            if (d[i] == '.') {
                dot = 1;
                if (i + 1 < dn && d[i + 1] == '.')
                    return "must be a valid email address";
            }
        }
        if (!dot)
            return "must be a valid email address";
    }
    return NULL;
}

void ext_rule_email(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n;
    const char *msg;

    (void)argc;
    if (rules_text(ctx, argv[0], &s, &n) != 0)
        return;
    msg = rules_email_check(s, n);
    if (msg != NULL)
        rules_fail(ctx, msg);
}

void ext_email_normalize(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    int type = sqlite3_value_type(argv[0]);
    const unsigned char *s;
    unsigned char *out;
    int n;
    int i;
    int at = -1;

    (void)argc;
    if (type == SQLITE_NULL)
        return;
    if (type != SQLITE_TEXT) {
        ext_error(ctx, "lintel_email_normalize(): 1st argument is %s, not TEXT",
                  ext_type_name(type));
        return;
    }
    s = sqlite3_value_text(argv[0]);
    n = sqlite3_value_bytes(argv[0]);
    if (s == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    out = sqlite3_malloc(n + 1);
    if (out == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    memcpy(out, s, (size_t)n + 1);
    /* The domain is after the last '@'; the local part may be case-sensitive (RFC 5321). */
    for (i = 0; i < n; i++)
        if (out[i] == '@')
            at = i;
    for (i = at + 1; at >= 0 && i < n; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (unsigned char)(out[i] - 'A' + 'a');
    sqlite3_result_text(ctx, (const char *)out, n, sqlite3_free);
}

void ext_rule_password(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n;
    int len;
    sqlite3_int64 min = RULE_PASSWORD_MIN;

    if (argc > 1) {
        int type = sqlite3_value_type(argv[1]);
        if (type == SQLITE_NULL)
            return;
        min = sqlite3_value_int64(argv[1]);
        if (type != SQLITE_INTEGER || min < 1 || min > RULE_PASSWORD_MAX) {
            ext_error(ctx, "lintel_rule_password(): 2nd argument must be an integer 1..128");
            return;
        }
    }
    if (rules_text(ctx, argv[0], &s, &n) != 0)
        return;
    len = rules_utf8_len(s, n);
    if (len < min) {
        char *msg = sqlite3_mprintf("must be at least %lld characters", min);
        if (msg == NULL)
            sqlite3_result_error_nomem(ctx);
        else
            sqlite3_result_text(ctx, msg, -1, sqlite3_free);
    } else if (len > RULE_PASSWORD_MAX) {
        rules_fail(ctx, "must be at most 128 characters");
    }
}

void ext_rule_number(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    switch (sqlite3_value_type(argv[0])) {
    case SQLITE_NULL:
        return;
    case SQLITE_INTEGER:
        if (sqlite3_value_int64(argv[0]) <= 0)
            rules_fail(ctx, "must be greater than 0");
        return;
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(argv[0]);
        if (!isfinite(d))
            rules_fail(ctx, "must be a finite number");
        else if (!(d > 0.0))
            rules_fail(ctx, "must be greater than 0");
        return;
    }
    default:
        rules_fail(ctx, "must be a number"); /* R6 */
        return;
    }
}

static int rules_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void ext_rule_task_title(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n;
    int start = 0;

    (void)argc;
    if (rules_text(ctx, argv[0], &s, &n) != 0)
        return;
    while (start < n && rules_is_space(s[start]))
        start++;
    while (n > start && rules_is_space(s[n - 1]))
        n--;
    if (n == start)
        rules_fail(ctx, "must not be empty");
    else if (rules_utf8_len(s + start, n - start) > RULE_TITLE_MAX)
        rules_fail(ctx, "must be at most 200 characters");
}

void ext_rule_task_description(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *s;
    int n;

    (void)argc;
    if (rules_text(ctx, argv[0], &s, &n) != 0)
        return;
    if (rules_utf8_len(s, n) > RULE_DESCRIPTION_MAX)
        rules_fail(ctx, "must be at most 10000 characters");
}
