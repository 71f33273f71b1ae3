/*
 * `lintel keys list|rotate`: shows the key ring and makes a new current key; the retired one
 * keeps verifying until the tokens it signed have expired (docs/auth.md "Key rotation").
 */
#include "keys_cli.h"

#include "config.h"
#include "db.h"
#include "jwt.h"
#include "keyring.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int keys_cli_usage(void)
{
    fprintf(stderr, "usage: lintel keys list      the signing keys: current, verifying, retired\n"
                    "       lintel keys rotate    make a new current key; the old one verifies\n"
                    "                             until its last token expires (access_ttl)\n");
    return 2;
}

static int keys_cli_list(struct db *db, const struct config *cfg)
{
    json_t *j_rows = NULL, *j_row;
    size_t i;
    long long now = (long long)time(NULL), window = cfg->access_ttl + JWT_LEEWAY + KEYRING_RECHECK;
    int rc;

    rc = db_query(db,
                  "SELECT kid, alg, strftime('%Y-%m-%dT%H:%M:%SZ', created_at, 'unixepoch') AS"
                  " created, retired_at FROM signing_keys"
                  " ORDER BY retired_at IS NOT NULL, retired_at DESC",
                  NULL, &j_rows);
    if (rc != 0) {
        fprintf(stderr, "lintel keys: %s\n", db_errmsg(db));
        return 1;
    }
    printf("%-44s %-6s %-21s %s\n", "kid", "alg", "created", "state");
    json_array_foreach(j_rows, i, j_row) {
        json_t *j_ret = json_object_get(j_row, "retired_at");
        long long until = json_integer_value(j_ret) + window;
        char state[64];
        if (json_is_null(j_ret))
            snprintf(state, sizeof(state), "current");
        else if (until >= now)
            snprintf(state, sizeof(state), "verifies for %llds more", until - now);
        else
            snprintf(state, sizeof(state), "retired");
        printf("%-44s %-6s %-21s %s\n", json_string_value(json_object_get(j_row, "kid")),
               json_string_value(json_object_get(j_row, "alg")),
               json_string_value(json_object_get(j_row, "created")), state);
    }
    json_decref(j_rows);
    return 0;
}

int keys_cli_main(int argc, char **argv, const struct config *cfg)
{
    struct db *db = NULL;
    json_t *j_row = NULL;
    char *kid = NULL, *err = NULL;
    int rc, status = 1, opened = 0;

    if (argc != 2 || (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "rotate") != 0))
        return keys_cli_usage();
    rc = db_thread(&db);
    if (rc != 0) {
        rc = db_global_init(cfg);
        opened = rc == 0;
        if (rc == 0)
            rc = db_thread(&db);
    }
    if (rc != 0) {
        fprintf(stderr, "lintel keys: cannot open the database under %s\n",
                cfg->data_dir != NULL ? cfg->data_dir : "./data");
        goto cleanup;
    }
    rc = db_row(db,
                "SELECT 1 AS ok FROM sqlite_schema WHERE type = 'table' AND name = 'signing_keys'",
                NULL, &j_row);
    if (rc != 0) {
        fprintf(stderr, "lintel keys: the database has no key ring yet: run `lintel migrate`\n");
        goto cleanup;
    }
    if (strcmp(argv[1], "list") == 0) {
        status = keys_cli_list(db, cfg);
        goto cleanup;
    }
    rc = keyring_rotate(cfg, &kid, &err);
    if (rc != 0) {
        fprintf(stderr, "lintel keys: %s\n", err != NULL ? err : "rotation failed");
        goto cleanup;
    }
    printf("%s\n", kid);
    fprintf(stderr,
            "lintel keys: %s signs from now on (running servers switch within %d s); the"
            " previous key verifies for %lld s more\n",
            kid, KEYRING_RECHECK, cfg->access_ttl + JWT_LEEWAY + KEYRING_RECHECK);
    status = 0;
cleanup:
    keyring_release();
    free(kid);
    free(err);
    json_decref(j_row);
    if (opened)
        db_global_release();
    return status;
}
