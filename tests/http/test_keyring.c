/*
 * The signing-key ring in the database: `lintel keys rotate` on a running server keeps live
 * tokens working, JWKS publishes both keys during the overlap, a key whose window closed stops
 * verifying; the key file of a release before the ring is imported on upgrade.
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PW "correct-horse-1"

/* The kids JWKS publishes, as "kid1,kid2," (malloc'd). */
static char *jwks_kids(const char *url, size_t *count)
{
    struct lt_resp r;
    json_t *j_key;
    size_t i;
    char *out = calloc(1, 1024);

    ck_assert_int_eq(lt_json(url, "GET", "/api/auth/jwks", NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    *count = json_array_size(json_object_get(r.j_body, "keys"));
    json_array_foreach(json_object_get(r.j_body, "keys"), i, j_key) {
        ck_assert_ptr_null(json_object_get(j_key, "d")); /* never the private half */
        strncat(out, json_string_value(json_object_get(j_key, "kid")), 100);
        strcat(out, ",");
    }
    lt_resp_clear(&r);
    return out;
}

/* The JOSE header segment of a token: it differs exactly when the kid differs. */
static char *header_of(const char *token)
{
    return strndup(token, (size_t)(strchr(token, '.') - token));
}

static char *keys_cli(const struct lt_server *s, const char *what, int *status)
{
    char *out = NULL, arg[16];
    const char *const args[] = {"keys", arg, NULL};
    const char *const env[] = {"LINTEL_ACCESS_TTL=60", NULL};

    snprintf(arg, sizeof(arg), "%s", what);
    *status = lt_run(s->data_dir, env, args, &out);
    return out;
}

/*
 * Changes the retired key's row from the shell (UPDATE signing_keys SET <set>) and waits, up to
 * 10 s, for the running server to notice: the retired key's token old then answers status.
 */
static void retired_row_set(const struct lt_server *s, const char *set, const char *old, int status)
{
    char sql[256], *out;
    int rc, i;

    snprintf(sql, sizeof(sql), "UPDATE signing_keys SET %s WHERE retired_at IS NOT NULL", set);
    out = lt_shell_sql(s->data_dir, sql, &rc);
    ck_assert_msg(rc == 0, "shell: %s", out);
    free(out);
    for (i = 0; i < 40 && lt_me_status(s->url, old) != status; i++)
        usleep(250 * 1000);
    ck_assert_int_eq(lt_me_status(s->url, old), status);
}

START_TEST(rotation_keeps_live_tokens)
{
    static const char *const env[] = {"LINTEL_ACCESS_TTL=60", "LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {0};
    char *t1 = NULL, *t2 = NULL, *name = NULL, *kids = NULL, *out = NULL, *h1, *h2 = NULL;
    char *newkid = NULL, *nl;
    size_t n = 0;
    int status, i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "rot", PW, &t1, NULL, &name), 0);
    kids = jwks_kids(s.url, &n);
    ck_assert_uint_eq(n, 1);
    kids[strlen(kids) - 1] = '\0';

    out = keys_cli(&s, "rotate", &status);
    ck_assert_msg(status == 0, "keys rotate: %s", out);
    /* it names the new key, which the ring did not hold */
    nl = strstr(out, " signs from now on");
    ck_assert_ptr_nonnull(nl);
    while (nl > out && nl[-1] != '\n' && nl[-1] != ' ')
        nl--;
    newkid = strndup(nl, strcspn(nl, " "));
    ck_assert_uint_eq(strlen(newkid), 43);
    ck_assert_str_ne(newkid, kids);
    free(kids);
    free(out);

    /* within KEYRING_RECHECK seconds new logins are signed with the new key */
    h1 = header_of(t1);
    for (i = 0; i < 40; i++) {
        free(t2);
        t2 = NULL;
        ck_assert_int_eq(lt_login(s.url, name, PW, NULL, &t2, NULL), 0);
        free(h2);
        h2 = header_of(t2);
        if (strcmp(h1, h2) != 0)
            break;
        usleep(250 * 1000);
    }
    ck_assert_msg(strcmp(h1, h2) != 0, "the server never signed with the rotated key");
    /* the token of the old key still works, so does the new one; JWKS holds both */
    ck_assert_int_eq(lt_me_status(s.url, t1), 200);
    ck_assert_int_eq(lt_me_status(s.url, t2), 200);
    kids = jwks_kids(s.url, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(strstr(kids, newkid));
    free(kids);

    out = keys_cli(&s, "list", &status);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_nonnull(strstr(out, "current"));
    ck_assert_ptr_nonnull(strstr(out, "verifies for"));
    free(out);

    /* a retired key whose kid is not its thumbprint is left out (the current one signs on),
     * and comes back once the row is right again */
    retired_row_set(&s, "kid = 'x' || kid", t1, 401);
    ck_assert_int_eq(lt_me_status(s.url, t2), 200);
    kids = jwks_kids(s.url, &n);
    ck_assert_uint_eq(n, 1);
    free(kids);
    retired_row_set(&s, "kid = substr(kid, 2)", t1, 200);

    /* once the old key's window has closed (access_ttl + leeway after its retirement) its
     * tokens are refused and JWKS drops it: moved back in time from the shell */
    retired_row_set(&s, "retired_at = retired_at - 1000", t1, 401);
    ck_assert_int_eq(lt_me_status(s.url, t2), 200);
    kids = jwks_kids(s.url, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_ptr_nonnull(strstr(kids, newkid));
    free(kids);

    /* HS256 has no ring to rotate: refused, saying why */
    {
        const char *const args[] = {"keys", "rotate", NULL};
        const char *const hs[] = {"LINTEL_JWT_ALG=HS256",
                                  "LINTEL_JWT_SECRET=q8Vt3nR1xK0pL7mZ2wY5cB9dF4gH6jA1", NULL};
        status = lt_run(s.data_dir, hs, args, &out);
        ck_assert_int_ne(status, 0);
        ck_assert_ptr_nonnull(strstr(out, "jwt_secret"));
        free(out);
    }
    ck_assert_int_eq(lt_server_stop(&s), 0);
    free(h1);
    free(h2);
    free(t1);
    free(t2);
    free(name);
    free(newkid);
}
END_TEST

/*
 * Before the ring, the key was data_dir/jwt-EdDSA.pem. A database of that time (the table
 * empty, the file beside it) keeps its tokens verifying after the upgrade.
 */
START_TEST(legacy_key_file_imported)
{
    static const char *const env[] = {"LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {0}, s2 = {0};
    char *token = NULL, *out = NULL, *kids = NULL, *kids2 = NULL, path[PATH_MAX + 32];
    char env_dir[PATH_MAX + 32];
    const char *env2[] = {"LINTEL_PASSWORD_COST=3", env_dir, NULL};
    FILE *f;
    size_t n;
    int status;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_register(s.url, "legacy", PW, &token, NULL, NULL), 0);
    kids = jwks_kids(s.url, &n);
    ck_assert_int_eq(lt_server_stop_keep(&s), 0);

    /* back to the old layout: the key in a file, none in the table */
    out = lt_shell_sql(s.data_dir, ".mode list\nSELECT private_pem FROM signing_keys", &status);
    ck_assert_int_eq(status, 0);
    ck_assert_ptr_nonnull(strstr(out, "BEGIN PRIVATE KEY"));
    snprintf(path, sizeof(path), "%s/jwt-EdDSA.pem", s.data_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(out, f);
    fclose(f);
    chmod(path, 0600);
    free(out);
    out = lt_shell_sql(s.data_dir, "DELETE FROM signing_keys", &status);
    ck_assert_int_eq(status, 0);
    free(out);

    snprintf(env_dir, sizeof(env_dir), "LINTEL_DATA_DIR=%s", s.data_dir);
    ck_assert_int_eq(lt_server_start(&s2, env2, NULL), 0);
    ck_assert_int_eq(lt_me_status(s2.url, token), 200);
    kids2 = jwks_kids(s2.url, &n);
    ck_assert_str_eq(kids2, kids);
    ck_assert_int_eq(lt_server_stop(&s2), 0);
    /* the first server's data dir was the one in use: remove it now */
    {
        char *rm = NULL;
        ck_assert_int_ge(asprintf(&rm, "rm -rf '%s'", s.data_dir), 0);
        ck_assert_int_eq(system(rm), 0);
        free(rm);
    }
    free(kids);
    free(kids2);
    free(token);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keyring");
    TCase *tc = tcase_create("keyring");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rotation_keeps_live_tokens);
    tcase_add_test(tc, legacy_key_file_imported);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
