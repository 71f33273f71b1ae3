/*
 * The browser pages lintel serves itself: /docs (Swagger UI), /admin, and their files under
 * /assets/{file}, read from web_dir (pinned npm packages the build copied; docs/operations.md).
 */
#include "web.h"

#include "config.h"
#include "host_api.h"
#include "log.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The swagger-ui-dist release of web/package-lock.json, also what docs_cdn loads. */
#define WEB_SWAGGER_UI_VERSION "5.35.0"
#define WEB_CDN_ORIGIN         "https://cdn.jsdelivr.net"
#define WEB_CDN                WEB_CDN_ORIGIN "/npm/swagger-ui-dist@" WEB_SWAGGER_UI_VERSION

/* No asset comes near this; a bigger file in web_dir is refused rather than read. */
#define WEB_MAX_FILE (16 * 1024 * 1024)

/* Every file /assets/ serves: nothing else of web_dir is reachable. */
static struct web_file {
    const char *name;
    const char *type;
    pthread_mutex_t lock;
    char *data; /* read at the first request, kept for the process */
    size_t len;
} web_files[] = {
    {"swagger-ui-bundle.js", "text/javascript; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"swagger-ui.css", "text/css; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"uPlot.iife.min.js", "text/javascript; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"uPlot.min.css", "text/css; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"docs.js", "text/javascript; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"admin.html", "text/html; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"admin.js", "text/javascript; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
    {"admin.css", "text/css; charset=utf-8", PTHREAD_MUTEX_INITIALIZER, NULL, 0},
};

#define WEB_NFILES (sizeof(web_files) / sizeof(web_files[0]))

/* Scripts and styles only from this origin; requests only to it; never framed. */
#define WEB_CSP_LOCAL                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "              \
    "frame-ancestors 'none'"
#define WEB_CSP_CDN                                                                                \
    "default-src 'none'; script-src 'self' " WEB_CDN_ORIGIN "; style-src 'self' " WEB_CDN_ORIGIN   \
    " 'unsafe-inline'; img-src 'self' data: " WEB_CDN_ORIGIN "; connect-src 'self'; "              \
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

#define WEB_DOCS_HTML(css, js)                                                                     \
    "<!doctype html>\n"                                                                            \
    "<html lang=\"en\">\n"                                                                         \
    "<head>\n"                                                                                     \
    "<meta charset=\"utf-8\">\n"                                                                   \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<title>lintel API</title>\n"                                                                  \
    "<link rel=\"stylesheet\" href=\"" css "\">\n"                                                 \
    "</head>\n"                                                                                    \
    "<body>\n"                                                                                     \
    "<div id=\"swagger-ui\"></div>\n"                                                              \
    "<script src=\"" js "\"></script>\n"                                                           \
    "<script src=\"/assets/docs.js\"></script>\n"                                                  \
    "</body>\n"                                                                                    \
    "</html>\n"

static const char web_docs_local[] =
    WEB_DOCS_HTML("/assets/swagger-ui.css", "/assets/swagger-ui-bundle.js");

/* Pinned by version and by Subresource Integrity: the CDN cannot change what runs. */
static const char web_docs_cdn[] = WEB_DOCS_HTML(
    WEB_CDN "/swagger-ui.css\" integrity=\"sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+"
            "KuRNwBhoxKVN1i3D5I\" crossorigin=\"anonymous",
    WEB_CDN "/swagger-ui-bundle.js\" integrity=\"sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+"
            "j0d0sXw0MdGEfScduGpSyF3ZSSLkX9\" crossorigin=\"anonymous");

static pthread_mutex_t web_dir_lock = PTHREAD_MUTEX_INITIALIZER;
static char *web_dir; /* resolved once */

/*
 * web_dir, else next to the executable: <prefix>/bin/lintel -> <prefix>/share/lintel/web,
 * wherever the prefix (the build tree has the same layout: build/app, build/share/lintel/web).
 */
static const char *web_directory(const struct config *cfg)
{
    static const char *const rel[] = {"../share/lintel/web"};
    char exe[PATH_MAX], *dir, *cand = NULL;
    struct stat st;
    ssize_t n;
    size_t i;

    pthread_mutex_lock(&web_dir_lock);
    if (web_dir != NULL || cfg->web_dir != NULL) {
        if (web_dir == NULL)
            web_dir = strdup(cfg->web_dir);
        goto cleanup;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        goto cleanup;
    exe[n] = '\0';
    dir = dirname(exe);
    for (i = 0; i < sizeof(rel) / sizeof(rel[0]) && web_dir == NULL; i++) {
        if (asprintf(&cand, "%s/%s", dir, rel[i]) < 0)
            break;
        if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
            web_dir = cand;
            cand = NULL;
        }
        free(cand);
        cand = NULL;
    }
cleanup:
    pthread_mutex_unlock(&web_dir_lock);
    return web_dir;
}

/* Reads f from dir once; 0, or LINTEL_ENOTFOUND when it is missing or unreadable. */
static int web_file_load(struct web_file *f, const char *dir)
{
    char *path = NULL, *data = NULL;
    struct stat st;
    FILE *fp = NULL;
    int rc = LINTEL_ENOTFOUND;

    pthread_mutex_lock(&f->lock);
    if (f->data != NULL) {
        rc = 0;
        goto cleanup;
    }
    if (dir == NULL || asprintf(&path, "%s/%s", dir, f->name) < 0) {
        path = NULL;
        goto cleanup;
    }
    fp = fopen(path, "rb");
    if (fp == NULL || fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > WEB_MAX_FILE) {
        log_warn("web: cannot serve %s: %s", path, fp == NULL ? strerror(errno) : "not a file");
        goto cleanup;
    }
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    if (fread(data, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
        log_warn("web: short read of %s", path);
        goto cleanup;
    }
    f->data = data;
    f->len = (size_t)st.st_size;
    data = NULL;
    rc = 0;
cleanup:
    pthread_mutex_unlock(&f->lock);
    if (fp != NULL)
        fclose(fp);
    free(data);
    free(path);
    return rc;
}

static struct web_file *web_file_find(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < WEB_NFILES; i++)
        if (strcmp(web_files[i].name, name) == 0)
            return &web_files[i];
    return NULL;
}

/* Replies with a file of the list, or 404 naming what is missing and where it was looked for. */
static int web_reply_file(lintel_req *req, lintel_res *res, const char *name)
{
    const struct lintel_api *api = host_api();
    struct web_file *f = web_file_find(name);
    const char *dir;
    int rc;

    if (f == NULL)
        return api->res_error(res, LINTEL_ENOTFOUND, NULL, "No asset named \"%s\".", name);
    dir = web_directory(req->cfg);
    rc = web_file_load(f, dir);
    if (rc == LINTEL_ENOTFOUND)
        return api->res_error(res, LINTEL_ENOTFOUND, NULL,
                              "%s is not installed in the web directory (%s): build the web "
                              "assets, or set web_dir.",
                              name, dir != NULL ? dir : "none found");
    if (rc != 0)
        return rc;
    /* The names carry no version, and an upgrade replaces the files: revalidate hourly. */
    rc = api->res_header(res, "Cache-Control", "public, max-age=3600");
    if (rc == 0)
        rc = api->res_bytes(res, 200, f->type, f->data, f->len);
    return rc;
}

int web_asset_handler(lintel_req *req, lintel_res *res, void *state)
{
    (void)state;
    return web_reply_file(req, res, host_api()->req_param(req, "file"));
}

static int web_page_headers(lintel_res *res, const char *csp)
{
    const struct lintel_api *api = host_api();
    int rc = api->res_header(res, "Content-Security-Policy", csp);

    if (rc == 0)
        rc = api->res_header(res, "Referrer-Policy", "no-referrer");
    return rc;
}

int web_docs_handler(lintel_req *req, lintel_res *res, void *state)
{
    bool cdn = req->cfg->docs_cdn;
    int rc;

    (void)state;
    rc = web_page_headers(res, cdn ? WEB_CSP_CDN : WEB_CSP_LOCAL);
    if (rc == 0)
        rc = host_api()->res_bytes(res, 200, "text/html; charset=utf-8",
                                   cdn ? web_docs_cdn : web_docs_local,
                                   cdn ? sizeof(web_docs_cdn) - 1 : sizeof(web_docs_local) - 1);
    return rc;
}

/* The page itself holds no data: everything on it comes from the API with an admin token. */
int web_admin_handler(lintel_req *req, lintel_res *res, void *state)
{
    int rc;

    (void)state;
    rc = web_page_headers(res, WEB_CSP_LOCAL);
    if (rc == 0)
        rc = web_reply_file(req, res, "admin.html");
    return rc;
}
