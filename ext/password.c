/*
 * Password hashing through libxcrypt: lintel_password_hash (yescrypt, random salt),
 * lintel_password_verify (any scheme libxcrypt knows) and lintel_password_needs_rehash.
 *
 * Requirements (cited below as R1..R7):
 * R1 new hashes are yescrypt "$y$", cost 1..11 (default 5, libxcrypt's own default).
 * R2 the salt comes from crypt_gensalt_rn with no caller bytes: libxcrypt reads the OS RNG.
 * R3 crypt_rn with a zeroed struct crypt_data on the heap per call (it is ~32 KiB, and one per
 *    call keeps the functions thread-safe); a result that is NULL or starts with '*' failed.
 * R4 never truncate: a password with a NUL byte cannot pass through crypt(3) whole, so
 *    hashing refuses it and verifying answers 0. (bcrypt itself reads only 72 bytes of an
 *    imported hash's password; that is the scheme's property, documented, not ours.)
 * R5 verify compares the recomputed hash with the stored one in constant time, and answers 0
 *    (not an error) for a malformed or unknown hash, so that a login cannot tell them apart.
 * R6 needs_rehash is 1 unless the hash is yescrypt with exactly the wanted cost parameters,
 *    a salt and a hash part (it checks the form, not the hash: verify does that).
 * R7 NULL in gives NULL out.
 */
#include "lintel_ext_int.h"

#include <crypt.h>
#include <string.h>

#define PW_PREFIX       "$y$"
#define PW_COST_DEFAULT 5
#define PW_COST_MIN     1
#define PW_COST_MAX     11

/* The cost argument k, or the default: 0, 1 for NULL, -1 after an error. */
static int pw_cost(sqlite3_context *ctx, const char *fn, int argc, sqlite3_value **argv, int k,
                   int *cost)
{
    sqlite3_int64 c;

    *cost = PW_COST_DEFAULT;
    if (argc <= k)
        return 0;
    if (sqlite3_value_type(argv[k]) == SQLITE_NULL)
        return 1;
    c = sqlite3_value_int64(argv[k]);
    if (sqlite3_value_type(argv[k]) != SQLITE_INTEGER || c < PW_COST_MIN || c > PW_COST_MAX) {
        ext_error(ctx, "%s: %s argument must be an integer 1..11", fn, ext_ordinal(k + 1));
        return -1;
    }
    *cost = (int)c;
    return 0;
}

/* The yescrypt setting for cost with an all-zero salt: its parameter field is what we want. */
static int pw_setting(int cost, char *out, int size)
{
    static const char zeros[16] = {0};

    return crypt_gensalt_rn(PW_PREFIX, (unsigned long)cost, zeros, (int)sizeof zeros, out, size) ==
                   NULL
               ? -1
               : 0;
}

void ext_password_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct crypt_data *data = NULL;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *pw;
    const char *hash;
    int type = sqlite3_value_type(argv[0]);
    int cost;

    if (type == SQLITE_NULL || pw_cost(ctx, "lintel_password_hash()", argc, argv, 1, &cost) != 0)
        goto cleanup;
    if (type != SQLITE_TEXT) {
        ext_error(ctx, "lintel_password_hash(): 1st argument is %s, not TEXT", ext_type_name(type));
        goto cleanup;
    }
    pw = (const char *)sqlite3_value_text(argv[0]);
    if (pw == NULL) {
        sqlite3_result_error_nomem(ctx);
        goto cleanup;
    }
    if ((int)strlen(pw) != sqlite3_value_bytes(argv[0])) {
        ext_error(ctx, "lintel_password_hash(): 1st argument contains a NUL character"); /* R4 */
        goto cleanup;
    }
    /* R2 */
    if (crypt_gensalt_rn(PW_PREFIX, (unsigned long)cost, NULL, 0, setting, sizeof setting) ==
            NULL ||
        setting[0] == '*') {
        ext_error(ctx, "lintel_password_hash(): cannot make a salt");
        goto cleanup;
    }
    data = sqlite3_malloc(sizeof *data);
    if (data == NULL) {
        sqlite3_result_error_nomem(ctx);
        goto cleanup;
    }
    memset(data, 0, sizeof *data); /* R3 */
    hash = crypt_rn(pw, setting, data, (int)sizeof *data);
    if (hash == NULL || hash[0] == '*') {
        ext_error(ctx, "lintel_password_hash(): hashing failed");
        goto cleanup;
    }
    sqlite3_result_text(ctx, hash, -1, SQLITE_TRANSIENT);
cleanup:
    if (data != NULL)
        explicit_bzero(data, sizeof *data); /* the password's traces */
    sqlite3_free(data);
}

/* R5: equal lengths and bytes, in time that depends only on the lengths. */
static int pw_equal(const char *a, const char *b)
{
    size_t na = strlen(a);
    size_t nb = strlen(b);
    unsigned char diff = 0;
    size_t i;

    if (na != nb)
        return 0;
    for (i = 0; i < na; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

void ext_password_verify(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct crypt_data *data = NULL;
    const char *pw;
    const char *stored;
    const char *hash;
    int ok = 0;

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        goto cleanup; /* R7 */
    pw = (const char *)sqlite3_value_text(argv[0]);
    stored = (const char *)sqlite3_value_text(argv[1]);
    if (pw == NULL || stored == NULL) {
        sqlite3_result_error_nomem(ctx);
        goto cleanup;
    }
    /* R4, R5: a cut-short password or hash never matches */
    if ((int)strlen(pw) == sqlite3_value_bytes(argv[0]) &&
        (int)strlen(stored) == sqlite3_value_bytes(argv[1]) && stored[0] != '\0') {
        data = sqlite3_malloc(sizeof *data);
        if (data == NULL) {
            sqlite3_result_error_nomem(ctx);
            goto cleanup;
        }
        memset(data, 0, sizeof *data);
        hash = crypt_rn(pw, stored, data, (int)sizeof *data);
        ok = hash != NULL && hash[0] != '*' && pw_equal(hash, stored);
    }
    sqlite3_result_int(ctx, ok);
cleanup:
    if (data != NULL)
        explicit_bzero(data, sizeof *data);
    sqlite3_free(data);
}

void ext_password_needs_rehash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *hash;
    const char *want_end;
    const char *salt_end;
    size_t want_len;
    int cost;

    if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
        pw_cost(ctx, "lintel_password_needs_rehash()", argc, argv, 1, &cost) != 0)
        return;
    hash = (const char *)sqlite3_value_text(argv[0]);
    if (hash == NULL) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    if (pw_setting(cost, setting, (int)sizeof setting) != 0) {
        ext_error(ctx, "lintel_password_needs_rehash(): cannot make a setting");
        return;
    }
    /* R6: "$y$<params>$": compare the prefix up to and including the '$' after the params */
    want_end = strchr(setting + strlen(PW_PREFIX), '$');
    want_len = want_end == NULL ? strlen(setting) : (size_t)(want_end - setting) + 1;
    if (strncmp(hash, setting, want_len) != 0) {
        sqlite3_result_int(ctx, 1);
        return;
    }
    /* then a non-empty salt, '$', and a non-empty hash: a bare setting is no password hash */
    salt_end = strchr(hash + want_len, '$');
    sqlite3_result_int(ctx, salt_end == NULL || salt_end == hash + want_len || salt_end[1] == '\0');
}
