/*
 * Mail: template rendering and SMTP delivery through libcurl (TLS by gnutls inside curl). The
 * message is built here because it is short and plain text; curl does the SMTP dialogue,
 * STARTTLS, AUTH and the dot-stuffing of the body.
 */
#include "mail.h"

#include "config.h"
#include "crypto.h"
#include "file_read.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <lintel/migrations.h>
#include <lintel/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* An operator's template is read whole; a larger file is refused, not truncated. */
#define MAIL_TEMPLATE_MAX (16 * 1024)
/* A rendered mail never grows past this (values are short: names, addresses, tokens). */
#define MAIL_MAX (64 * 1024)

extern const struct lintel_embedded_sql mail_builtin[];

bool mail_configured(const struct config *cfg)
{
    return cfg != NULL && cfg->smtp_url != NULL && cfg->smtp_url[0] != '\0';
}

/* The operator's template file, or NULL when there is none (*err set when it is unusable). */
static char *mail_read_override(const struct config *cfg, const char *name, int *err)
{
    char path[4096], *buf = NULL;
    size_t n;
    int rc;

    *err = 0;
    if (cfg->mail_templates == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/%s.txt", cfg->mail_templates, name);
    rc = file_read_max(path, MAIL_TEMPLATE_MAX, &buf, &n);
    if (rc == LINTEL_ENOTFOUND && errno == ENOENT)
        return NULL; /* no file of that name: the built-in template */
    if (rc == LINTEL_ETOOLARGE)
        log_error("mail: template %s is larger than 16 KiB", path);
    else if (rc != 0)
        log_error("mail: cannot read template %s: %s", path,
                  rc == LINTEL_ENOMEM ? "out of memory" : strerror(errno));
    *err = rc != 0;
    return buf;
}

/* Appends len bytes to the growing buffer, refusing to pass MAIL_MAX. */
static int mail_put(char *out, size_t *pos, const char *s, size_t len)
{
    if (*pos + len >= MAIL_MAX)
        return -1;
    memcpy(out + *pos, s, len);
    *pos += len;
    out[*pos] = '\0';
    return 0;
}

/* Replaces {{key}} by values of j_vars and LF by CRLF. *out malloc'd. */
static int mail_expand(const char *text, const json_t *j_vars, char **out)
{
    char *buf = malloc(MAIL_MAX);
    size_t pos = 0;
    const char *p = text;
    int rc = 0;

    if (buf == NULL)
        return LINTEL_ENOMEM;
    buf[0] = '\0';
    while (*p != '\0' && rc == 0) {
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            char key[64];
            size_t klen = end != NULL ? (size_t)(end - p - 2) : 0;
            if (end != NULL && klen > 0 && klen < sizeof(key)) {
                const char *v;
                memcpy(key, p + 2, klen);
                key[klen] = '\0';
                v = json_string_value(json_object_get(j_vars, key));
                if (v != NULL)
                    rc = mail_put(buf, &pos, v, strlen(v));
                p = end + 2;
                continue;
            }
        }
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            rc = mail_put(buf, &pos, "\r\n", 2);
        else
            rc = mail_put(buf, &pos, p, 1);
        p++;
    }
    if (rc != 0) {
        free(buf);
        log_error("mail: a rendered mail would pass 64 KiB");
        return LINTEL_EPARAM;
    }
    *out = buf;
    return 0;
}

int mail_render(const struct config *cfg, const char *name, const json_t *j_vars, char **subject,
                char **body)
{
    const struct lintel_embedded_sql *t;
    const char *text = NULL, *nl;
    char *own = NULL, *all = NULL;
    size_t slen;
    int err = 0, rc = LINTEL_EPARAM;

    *subject = NULL;
    *body = NULL;
    own = mail_read_override(cfg, name, &err);
    if (err)
        goto cleanup;
    text = own;
    for (t = mail_builtin; text == NULL && t->id != NULL; t++)
        if (strcmp(t->id, name) == 0)
            text = t->sql;
    if (text == NULL) {
        log_error("mail: no template '%s'", name);
        goto cleanup;
    }
    rc = mail_expand(text, j_vars, &all);
    if (rc != 0)
        goto cleanup;
    rc = LINTEL_EPARAM;
    if (strncasecmp(all, "Subject:", 8) != 0 || (nl = strstr(all, "\r\n")) == NULL) {
        log_error("mail: template '%s' does not start with a Subject: line", name);
        goto cleanup;
    }
    slen = (size_t)(nl - all) - 8;
    *subject = strndup(all + 8 + strspn(all + 8, " \t"), slen - strspn(all + 8, " \t"));
    nl += 2;
    if (strncmp(nl, "\r\n", 2) == 0)
        nl += 2; /* the blank line after the subject */
    *body = strdup(nl);
    rc = *subject != NULL && *body != NULL ? 0 : LINTEL_ENOMEM;
cleanup:
    if (rc != 0) {
        free(*subject);
        free(*body);
        *subject = *body = NULL;
    }
    free(all);
    free(own);
    return rc;
}

struct mail_reader {
    const char *data;
    size_t len, pos;
};

static size_t mail_read_cb(char *buf, size_t size, size_t nmemb, void *userp)
{
    struct mail_reader *r = userp;
    size_t n = size * nmemb;

    if (n > r->len - r->pos)
        n = r->len - r->pos;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return n;
}

/* A header value without CR or LF: a template or a value must not add headers. */
static void mail_header_clean(char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

int mail_send(const struct config *cfg, const char *to, const char *subject, const char *body)
{
    CURL *curl = NULL;
    struct curl_slist *rcpt = NULL;
    struct mail_reader r = {0};
    char *msg = NULL, *subj = NULL, *mid = NULL, from_env[320], to_env[320], date[64];
    time_t now = time(NULL);
    struct tm tm;
    CURLcode cc;
    int rc = LINTEL_EUPSTREAM;

    if (!mail_configured(cfg) || strlen(to) > 300 || strlen(cfg->smtp_from) > 300)
        return LINTEL_EUNAVAIL;
    subj = strdup(subject);
    if (subj == NULL || crypto_random_token(12, &mid) != 0) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    mail_header_clean(subj);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    if (asprintf(&msg,
                 "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@lintel>\r\n"
                 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n%s",
                 date, cfg->smtp_from, to, subj, mid, body) < 0) {
        msg = NULL;
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    snprintf(from_env, sizeof(from_env), "<%s>", cfg->smtp_from);
    snprintf(to_env, sizeof(to_env), "<%s>", to);
    r.data = msg;
    r.len = strlen(msg);
    curl = curl_easy_init();
    rcpt = curl_slist_append(NULL, to_env);
    if (curl == NULL || rcpt == NULL) {
        rc = LINTEL_ENOMEM;
        goto cleanup;
    }
    curl_easy_setopt(curl, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from_env);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, mail_read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &r);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)cfg->smtp_timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)cfg->smtp_timeout);
    if (cfg->smtp_user != NULL) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, cfg->smtp_user);
        if (cfg->smtp_password != NULL)
            curl_easy_setopt(curl, CURLOPT_PASSWORD, cfg->smtp_password);
        /* credentials never cross the network in clear: smtp:// must upgrade with STARTTLS */
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    } else {
        curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    }
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        /* neither the URL (it may hold credentials) nor the address (personal data) */
        log_error("mail: the SMTP server refused or failed: %s", curl_easy_strerror(cc));
        goto cleanup;
    }
    rc = 0;
cleanup:
    curl_easy_cleanup(curl); /* NULL-safe */
    curl_slist_free_all(rcpt);
    free(msg);
    free(subj);
    free(mid);
    return rc;
}
