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
 * R8 verify spends at most what the server itself could have asked for: the cost comes from
 *    the stored hash, which may come from a hostile database, so only yescrypt with the
 *    parameters of a cost 1..11, bcrypt ($2a$ $2b$ $2y$) of cost 4..14, SHA-crypt ($5$ $6$)
 *    of at most 1,000,000 rounds and md5crypt ($1$, fixed cost) are computed; any other hash
 *    answers 0 without hashing. (docs/auth.md "Password hashes")
 * R9 every password the rules accept hashes: libxcrypt refuses a passphrase of 512 bytes or
 *    more (128 characters of 4 bytes are 512), so such a password is first reduced to
 *    PW_PREHASH_TAG followed by the hex SHA-256 of its bytes (pre-hash v1), for yescrypt
 *    hashes only. Shorter passwords are hashed as they are, so every existing hash still
 *    verifies; the tag starts with 0xFF, which no UTF-8 text contains, so no typed password
 *    equals a pre-hashed one.
 */
#include "lintel_ext_int.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

#define PW_PREFIX       "$y$"
#define PW_COST_DEFAULT 5
#define PW_COST_MIN     1
#define PW_COST_MAX     11
#define PW_BCRYPT_MAX   14      /* 2^14 rounds: about 1 s on this machine kind */
#define PW_SHACRYPT_MAX 1000000 /* rounds=; libxcrypt's default is 5000      */
/* R9: libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE; passphrases of this many bytes or more fail. */
#define PW_PHRASE_MAX  512
#define PW_PREHASH_TAG "\xfflintel-prehash-v1-sha256:"
#define PW_PREHASH_LEN (sizeof(PW_PREHASH_TAG) - 1 + 64)

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

/*
 * R9: the passphrase given to crypt(3) for pw: pw itself when libxcrypt takes it, else the
 * pre-hash v1 written into buf (PW_PREHASH_LEN + 1 bytes). NULL when SHA-256 fails.
 */
static const char *pw_phrase(const char *pw, size_t len, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[32];
    size_t i, tag = sizeof(PW_PREHASH_TAG) - 1;

    if (len < PW_PHRASE_MAX)
        return pw;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, pw, len, digest) != 0)
        return NULL;
    memcpy(buf, PW_PREHASH_TAG, tag);
    for (i = 0; i < sizeof digest; i++) {
        buf[tag + 2 * i] = hex[digest[i] >> 4];
        buf[tag + 2 * i + 1] = hex[digest[i] & 15];
    }
    buf[PW_PREHASH_LEN] = '\0';
    explicit_bzero(digest, sizeof digest);
    return buf;
}

/* The decimal number at s up to the character stop, into *n; -1 when it is not one. */
static int pw_number(const char *s, char stop, unsigned long *n)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    *n = strtoul(s, &end, 10);
    return *end == stop && end - s <= 9 ? 0 : -1;
}

/* R8: whether the cost a stored hash names is one verify will pay. */
static int pw_cost_acceptable(const char *stored)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    const char *params_end;
    unsigned long n;
    int cost;

    if (strncmp(stored, PW_PREFIX, strlen(PW_PREFIX)) == 0) {
        /* "$y$<params>$": the params must be those crypt_gensalt makes for a cost 1..11 */
        params_end = strchr(stored + strlen(PW_PREFIX), '$');
        if (params_end == NULL)
            return 0;
        for (cost = PW_COST_MIN; cost <= PW_COST_MAX; cost++) {
            if (pw_setting(cost, setting, (int)sizeof setting) != 0)
                return 0;
            if (strncmp(setting, stored, (size_t)(params_end - stored) + 1) == 0)
                return 1;
        }
        return 0;
    }
    if (strncmp(stored, "$2a$", 4) == 0 || strncmp(stored, "$2b$", 4) == 0 ||
        strncmp(stored, "$2y$", 4) == 0)
        return pw_number(stored + 4, '$', &n) == 0 && n >= 4 && n <= PW_BCRYPT_MAX;
    if (strncmp(stored, "$5$", 3) == 0 || strncmp(stored, "$6$", 3) == 0) {
        if (strncmp(stored + 3, "rounds=", 7) != 0)
            return 1; /* 5000, the default */
        return pw_number(stored + 10, '$', &n) == 0 && n <= PW_SHACRYPT_MAX;
    }
    return strncmp(stored, "$1$", 3) == 0;
}

void ext_password_hash(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct crypt_data *data = NULL;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    char prehash[PW_PREHASH_LEN + 1];
    const char *pw;
    const char *phrase;
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
    memset(data, 0, sizeof *data);               /* R3 */
    phrase = pw_phrase(pw, strlen(pw), prehash); /* R9 */
    if (phrase == NULL) {
        ext_error(ctx, "lintel_password_hash(): hashing failed");
        goto cleanup;
    }
    hash = crypt_rn(phrase, setting, data, (int)sizeof *data);
    if (hash == NULL || hash[0] == '*') {
        ext_error(ctx, "lintel_password_hash(): hashing failed");
        goto cleanup;
    }
    sqlite3_result_text(ctx, hash, -1, SQLITE_TRANSIENT);
cleanup:
    if (data != NULL)
        explicit_bzero(data, sizeof *data); /* the password's traces */
    explicit_bzero(prehash, sizeof prehash);
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
    char prehash[PW_PREHASH_LEN + 1];
    const char *pw;
    const char *phrase;
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
    /* R4, R5: a cut-short password or hash never matches; R8: nor a too costly hash */
    if ((int)strlen(pw) == sqlite3_value_bytes(argv[0]) &&
        (int)strlen(stored) == sqlite3_value_bytes(argv[1]) && stored[0] != '\0' &&
        pw_cost_acceptable(stored)) {
        data = sqlite3_malloc(sizeof *data);
        if (data == NULL) {
            sqlite3_result_error_nomem(ctx);
            goto cleanup;
        }
        memset(data, 0, sizeof *data);
        /* R9: only yescrypt hashes were ever made from a pre-hash */
        phrase = strncmp(stored, PW_PREFIX, strlen(PW_PREFIX)) == 0
                     ? pw_phrase(pw, strlen(pw), prehash)
                     : pw;
        hash = phrase != NULL ? crypt_rn(phrase, stored, data, (int)sizeof *data) : NULL;
        ok = hash != NULL && hash[0] != '*' && pw_equal(hash, stored);
    }
    sqlite3_result_int(ctx, ok);
cleanup:
    if (data != NULL)
        explicit_bzero(data, sizeof *data);
    explicit_bzero(prehash, sizeof prehash);
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
