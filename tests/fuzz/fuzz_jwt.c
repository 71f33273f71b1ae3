/*
 * libFuzzer harness for access-token screening: every byte a client puts after "Bearer " goes
 * through jwt_verify (length cap, base64url, header pre-screen, rhonabwy, signature, claims).
 *
 * Input: byte 0 picks the key (even: HS256 with a fixed secret, odd: EdDSA with the throwaway
 * key tests/fuzz/jwt-ed25519.pem), the rest is the token. The clock is fixed, so the seeds in
 * corpus/jwt (valid tokens of both keys, written by LINTEL_FUZZ_JWT_SEEDS=dir) reach the claim
 * checks. Only for fuzzing: the key is public.
 */
#include "jwt.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_JWT_NOW 1800000000LL

static struct jwt_keys *fuzz_keys[2];

static void fuzz_jwt_die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_jwt: %s: %s\n", what, err != NULL ? err : "?");
    abort();
}

/* Writes valid tokens of both keys into dir, so the corpus starts past the signature check. */
static void fuzz_jwt_write_seeds(const char *dir)
{
    static const char *const scopes[] = {"profile", "profile tasks numbers admin", ""};
    unsigned k, i;

    for (k = 0; k < 2; k++) {
        for (i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
            json_t *j_claims = json_pack(
                "{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}", "iss", "lintel", "aud",
                "lintel-api", "sub", i == 2 ? "9007199254740993" : "42", "iat",
                (json_int_t)FUZZ_JWT_NOW - 60, "nbf", (json_int_t)FUZZ_JWT_NOW - 60, "exp",
                (json_int_t)FUZZ_JWT_NOW + 840, "sid", "c2lk", "jti", "anRp", "scope", scopes[i]);
            char *token = NULL, path[4096];
            FILE *f;
            if (j_claims == NULL || jwt_sign(fuzz_keys[k], j_claims, &token) != 0)
                fuzz_jwt_die("sign", NULL);
            snprintf(path, sizeof(path), "%s/valid-%u-%u", dir, k, i);
            f = fopen(path, "wb");
            if (f == NULL || fputc((int)k, f) == EOF || fputs(token, f) == EOF || fclose(f) != 0)
                fuzz_jwt_die("write", path);
            free(token);
            json_decref(j_claims);
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct jwt_conf hs = {.alg = "HS256",
                          .secret = "fuzz-only secret: 7f3a9c1e5b2d8f4a6c0e9b3d7a1f5c2e",
                          .data_dir = "/nonexistent"};
    struct jwt_conf ed = {.alg = "EdDSA",
                          .key_file = LINTEL_FUZZ_SOURCE_DIR "/jwt-ed25519.pem",
                          .data_dir = "/nonexistent"};
    char *err = NULL;
    const char *seeds = getenv("LINTEL_FUZZ_JWT_SEEDS");

    (void)argc;
    (void)argv;
    if (jwt_keys_new(&hs, &fuzz_keys[0], &err) != 0)
        fuzz_jwt_die("HS256 key", err);
    if (jwt_keys_new(&ed, &fuzz_keys[1], &err) != 0)
        fuzz_jwt_die("EdDSA key", err);
    if (seeds != NULL) {
        fuzz_jwt_write_seeds(seeds);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token;
    json_t *j_claims = NULL;
    const char *why = NULL;
    int rc;

    if (size == 0)
        return 0;
    token = malloc(size);
    if (token == NULL)
        return 0;
    memcpy(token, data + 1, size - 1);
    token[size - 1] = '\0';
    rc = jwt_verify(fuzz_keys[data[0] & 1], token, FUZZ_JWT_NOW, &j_claims, &why);
    /* The contract: claims exactly on success, a reason exactly on failure. */
    if ((rc == 0) != (j_claims != NULL) || (rc == 0) != (why == NULL))
        abort();
    if (getenv("LINTEL_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "fuzz_jwt: %s\n", why != NULL ? why : "valid");
    json_decref(j_claims);
    free(token);
    return 0;
}
