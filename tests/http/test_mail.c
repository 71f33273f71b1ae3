/*
 * Self-service accounts end to end with a real SMTP sink on loopback (tests/support/
 * smtp_sink.py): verification mail on register, forgot -> mail -> reset -> old sessions 401 ->
 * login with the new password; token reuse and expiry refused; unknown addresses answered like
 * known ones; rate limits; invite-only and closed registration; the verified-email login gate.
 */
#include "lt_shell.h"
#include "lt_test.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PW  "correct-horse-1"
#define PW2 "battery-staple-2"

struct sink {
    pid_t pid;
    int port;
    char dir[PATH_MAX];
};

static void sink_start(struct sink *s)
{
    char path[PATH_MAX + 16], script[PATH_MAX];
    char *port = NULL;
    int i;

    snprintf(s->dir, sizeof(s->dir), "%s/lintel-sink-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(s->dir));
    snprintf(script, sizeof(script), "%s/tests/support/smtp_sink.py",
             getenv("LINTEL_TEST_SOURCE_DIR"));
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        execlp("python3", "python3", script, s->dir, (char *)NULL);
        _exit(127);
    }
    snprintf(path, sizeof(path), "%s/port", s->dir);
    for (i = 0; i < 100 && (port = lt_slurp(path)) == NULL; i++)
        usleep(50 * 1000);
    ck_assert_msg(port != NULL, "the SMTP sink did not start");
    s->port = atoi(port);
    free(port);
}

static void sink_stop(struct sink *s)
{
    char path[PATH_MAX + 16];
    FILE *f;
    int i, status;

    snprintf(path, sizeof(path), "%s/stop", s->dir);
    f = fopen(path, "w");
    if (f != NULL)
        fclose(f);
    for (i = 0; i < 40 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
        usleep(50 * 1000);
    if (i == 40) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    snprintf(path, sizeof(path), "rm -rf '%s'", s->dir);
    ck_assert_int_eq(system(path), 0);
}

/* Mail number n (1-based), waiting up to 15 s for it (malloc'd). */
static char *mail_wait(const struct sink *s, int n)
{
    char path[PATH_MAX + 32];
    char *m = NULL;
    int i;

    snprintf(path, sizeof(path), "%s/mail-%d.eml", s->dir, n);
    for (i = 0; i < 300 && (m = lt_slurp(path)) == NULL; i++)
        usleep(50 * 1000);
    ck_assert_msg(m != NULL, "mail %d never arrived", n);
    return m;
}

/* No mail number n within a second and a half (the worker polls every second). */
static void mail_none(const struct sink *s, int n)
{
    char path[PATH_MAX + 32];
    struct stat st;

    usleep(1500 * 1000);
    snprintf(path, sizeof(path), "%s/mail-%d.eml", s->dir, n);
    ck_assert_msg(stat(path, &st) != 0, "an unexpected mail %d arrived", n);
}

/* The code of a mail: the indented line of the body (malloc'd). */
static char *mail_token(const char *mail)
{
    const char *p = strstr(mail, "\r\n    ");

    ck_assert_ptr_nonnull(p);
    p += 6;
    return strndup(p, strcspn(p, "\r\n"));
}

static long post(const char *url, const char *path, const char *token, const char *body,
                 struct lt_resp *keep)
{
    struct lt_resp r;
    long status;

    ck_assert_int_eq(lt_json(url, "POST", path, token, body, &r), 0);
    status = r.status;
    if (keep != NULL)
        *keep = r;
    else
        lt_resp_clear(&r);
    return status;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, f);
    ck_assert_int_ge(vasprintf(&out, f, ap), 0);
    va_end(ap);
    return out;
}

/* Registers name with the password PW and the address name@example.test (a verification mail). */
static void register_with_email(const char *url, const char *name)
{
    char *body = fmt("{\"username\":\"%s\",\"password\":\"" PW "\",\"email\":\"%s@example.test\"}",
                     name, name);

    ck_assert_int_eq(post(url, "/api/auth/register", NULL, body, NULL), 201);
    free(body);
}

START_TEST(forgot_reset_flow)
{
    struct sink k;
    struct lt_server s = {0};
    char smtp[64], *name = lt_unique("mail"), *body, *mail, *token, *tok1 = NULL, *tok2 = NULL;
    char *email = fmt("%s@example.test", name), *out;
    const char *env[] = {smtp,
                         "LINTEL_SMTP_FROM=lintel@example.test",
                         "LINTEL_PASSWORD_COST=3",
                         "LINTEL_PUBLIC_URL=https://app.example.test/",
                         "LINTEL_FORGOT_MAX_IP=7",
                         NULL};
    struct lt_resp r, r2;
    int status, i;

    sink_start(&k);
    snprintf(smtp, sizeof(smtp), "LINTEL_SMTP_URL=smtp://127.0.0.1:%d", k.port);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);

    /* register with an address: a verification mail */
    body = fmt("{\"username\":\"%s\",\"password\":\"" PW "\",\"email\":\"%s\"}", name, email);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, &r), 201);
    tok1 = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    free(body);
    mail = mail_wait(&k, 1);
    ck_assert_ptr_nonnull(strstr(mail, "Subject: Confirm your email address"));
    ck_assert_ptr_nonnull(strstr(mail, email));
    ck_assert_ptr_nonnull(strstr(mail, "From: lintel@example.test"));
    ck_assert_ptr_nonnull(strstr(mail, "https://app.example.test/verify-email?token="));
    token = mail_token(mail);
    free(mail);
    body = fmt("{\"token\":\"%s\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/email/verify", NULL, body, &r), 200);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "email_verified_at")));
    lt_resp_clear(&r);
    ck_assert_int_eq(post(s.url, "/api/auth/email/verify", NULL, body, NULL), 422); /* once */
    free(body);
    free(token);
    /* verified: asking for another mail is a conflict */
    ck_assert_int_eq(post(s.url, "/api/auth/email/verify/send", tok1, NULL, NULL), 409);

    ck_assert_int_eq(lt_login(s.url, name, PW, NULL, &tok2, NULL), 0);

    /* known and unknown addresses: the same status and the same body */
    body = fmt("{\"email\":\"%s\"}", email);
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, body, &r), 202);
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL,
                          "{\"email\":\"nobody-here@example.test\"}", &r2),
                     202);
    ck_assert_str_eq(r.body, r2.body);
    lt_resp_clear(&r);
    lt_resp_clear(&r2);
    mail = mail_wait(&k, 2);
    ck_assert_ptr_nonnull(strstr(mail, "Subject: Reset your password"));
    ck_assert_ptr_nonnull(strstr(mail, "https://app.example.test/reset-password?token="));
    ck_assert_ptr_nonnull(strstr(mail, email));
    token = mail_token(mail);
    free(mail);
    mail_none(&k, 3); /* nothing went to the unknown address */
    /* its outbox row (written so both paths do the same work) was dropped, not retried */
    out = lt_shell_sql(s.data_dir, "SELECT count(*) FROM mail_outbox", &status);
    ck_assert_msg(status == 0 && strcmp(out, "0\n") == 0, "outbox: %s", out);
    free(out);

    /* bad inputs: 422 naming the field; the token is not spent by them */
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, "{\"token\":\"x\"}", NULL), 422);
    out = fmt("{\"token\":\"%s\",\"password\":\"short\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, out, &r), 422);
    lt_assert_422(&r, "password", NULL); /* the reset's own password rule names its field */
    lt_resp_clear(&r);
    free(out);
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL,
                          "{\"token\":\"not-a-token\",\"password\":\"" PW2 "\"}", &r),
                     422);
    lt_assert_422(&r, "token", "is unknown, already used, or expired");
    lt_resp_clear(&r);
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, "{\"email\":7}", NULL), 422);
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, "{", NULL), 400);

    /* the reset: new password, every session ended, old password refused */
    ck_assert_int_eq(lt_me_status(s.url, tok1), 200);
    out = fmt("{\"token\":\"%s\",\"password\":\"" PW2 "\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, out, NULL), 204);
    ck_assert_int_eq(lt_me_status(s.url, tok1), 401);
    ck_assert_int_eq(lt_me_status(s.url, tok2), 401);
    free(tok1);
    free(tok2);
    tok1 = tok2 = NULL;
    ck_assert_int_ne(lt_login(s.url, name, PW, NULL, &tok1, NULL), 0);
    ck_assert_int_eq(lt_login(s.url, name, PW2, NULL, &tok1, NULL), 0);
    ck_assert_int_eq(lt_me_status(s.url, tok1), 200);
    /* the token works once */
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, out, &r), 422);
    lt_assert_422(&r, "token", "is unknown, already used, or expired");
    lt_resp_clear(&r);
    free(out);
    free(token);

    /* an expired token is refused (its expiry moved back from the shell) */
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, body, NULL), 202);
    mail = mail_wait(&k, 3);
    token = mail_token(mail);
    free(mail);
    out = lt_shell_sql(s.data_dir,
                       "UPDATE account_tokens SET expires_at = unixepoch() - 1"
                       " WHERE kind = 'reset' AND used_at IS NULL",
                       &status);
    ck_assert_msg(status == 0, "shell: %s", out);
    free(out);
    out = fmt("{\"token\":\"%s\",\"password\":\"" PW "\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, out, NULL), 422);
    free(out);
    free(token);

    /* per address: 3 an hour (two used), then 429 with Retry-After */
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, body, NULL), 202);
    ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, body, &r), 429);
    ck_assert_ptr_nonnull(lt_header(&r, "Retry-After"));
    lt_resp_clear(&r);
    /* per client: 7 an hour in this server, whatever the addresses (4 asked so far) */
    for (i = 0; i < 3; i++) {
        out = fmt("{\"email\":\"other%d@example.test\"}", i);
        ck_assert_int_eq(post(s.url, "/api/auth/password/forgot", NULL, out, NULL), 202);
        free(out);
    }
    ck_assert_int_eq(
        post(s.url, "/api/auth/password/forgot", NULL, "{\"email\":\"fresh@example.test\"}", NULL),
        429);
    free(body);

    /* the audit trail has the reset */
    {
        char *admin = NULL;
        ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
        ck_assert_int_eq(lt_json(s.url, "GET", "/api/audit?action=password.reset", admin, NULL, &r),
                         0);
        ck_assert_int_eq(json_array_size(json_object_get(r.j_body, "items")), 1);
        lt_resp_clear(&r);
        free(admin);
    }
    ck_assert_int_eq(lt_server_stop(&s), 0);
    sink_stop(&k);
    free(tok1);
    free(name);
    free(email);
}
END_TEST

/* Without smtp_url the mail routes say how to configure it (the shared server has none). */
START_TEST(no_smtp_503)
{
    struct lt_resp r;

    ck_assert_int_eq(
        lt_send(&r, "POST", "/api/auth/password/forgot", NULL, "{\"email\":\"a@example.test\"}"),
        503);
    ck_assert_ptr_nonnull(strstr(r.body, "smtp_url"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_status("POST", "/api/auth/password/reset", NULL,
                               "{\"token\":\"x\",\"password\":\"" PW2 "\"}"),
                     503);
    ck_assert_int_eq(lt_status("POST", "/api/auth/email/verify", NULL, "{\"token\":\"x\"}"), 503);
}
END_TEST

/*
 * An SMTP server that cannot be reached: the mail stays in the outbox for a later attempt
 * (attempts 1, next_at 30 s on) and the code it would have carried is not kept.
 */
START_TEST(smtp_down_retried_later)
{
    /* nothing listens on port 1 of loopback: every connection is refused at once */
    static const char *const env[] = {"LINTEL_SMTP_URL=smtp://127.0.0.1:1",
                                      "LINTEL_SMTP_FROM=lintel@example.test",
                                      "LINTEL_PASSWORD_COST=3", NULL};
    struct lt_server s = {0};
    char *out = NULL;
    int status, i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    register_with_email(s.url, "downsmtp");
    for (i = 0; i < 100; i++) {
        free(out);
        out = lt_shell_sql(s.data_dir,
                           "SELECT attempts || ',' || (next_at > unixepoch()) FROM mail_outbox",
                           &status);
        ck_assert_msg(status == 0, "shell: %s", out);
        if (strcmp(out, "1,1\n") == 0)
            break;
        usleep(100 * 1000);
    }
    ck_assert_msg(strcmp(out, "1,1\n") == 0, "outbox: %s", out);
    free(out);
    out = lt_shell_sql(s.data_dir, "SELECT count(*) FROM account_tokens", &status);
    ck_assert_msg(status == 0 && strcmp(out, "0\n") == 0, "account_tokens: %s", out);
    free(out);
    ck_assert_int_eq(lt_server_stop(&s), 0);
}
END_TEST

START_TEST(invite_and_closed_registration)
{
    static const char *const env[] = {"LINTEL_REGISTRATION=invite", "LINTEL_REGISTER_MAX_IP=2",
                                      "LINTEL_PASSWORD_COST=3", NULL};
    static const char *const closed[] = {"LINTEL_REGISTRATION=closed", "LINTEL_PASSWORD_COST=3",
                                         NULL};
    struct lt_server s = {0};
    char *admin = NULL, *user = NULL, *code[3], *body;
    struct lt_resp r;
    int i;

    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &admin, NULL), 0);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL,
                          "{\"username\":\"nocode\",\"password\":\"" PW "\"}", &r),
                     403);
    ck_assert_ptr_nonnull(strstr(r.body, "invit"));
    lt_resp_clear(&r);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL,
                          "{\"username\":\"badcode\",\"password\":\"" PW "\",\"invite\":\"nope\"}",
                          NULL),
                     403);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(post(s.url, "/api/auth/invites", admin, NULL, &r), 201);
        code[i] = strdup(json_string_value(json_object_get(r.j_body, "code")));
        ck_assert_ptr_nonnull(json_string_value(json_object_get(r.j_body, "expires_at")));
        lt_resp_clear(&r);
    }
    body = fmt("{\"username\":\"invited0\",\"password\":\"" PW "\",\"invite\":\"%s\"}", code[0]);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, &r), 201);
    user = strdup(json_string_value(json_object_get(r.j_body, "access_token")));
    lt_resp_clear(&r);
    free(body);
    /* single use */
    body = fmt("{\"username\":\"invited9\",\"password\":\"" PW "\",\"invite\":\"%s\"}", code[0]);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, NULL), 403);
    free(body);
    /* users cannot make codes */
    ck_assert_int_eq(post(s.url, "/api/auth/invites", user, NULL, NULL), 403);
    /* a registration refused after the code was claimed (a taken name) gives the code back */
    body = fmt("{\"username\":\"invited0\",\"password\":\"" PW "\",\"invite\":\"%s\"}", code[1]);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, NULL), 409);
    free(body);
    /* the throttle: 2 registrations an hour from one address */
    body = fmt("{\"username\":\"invited1\",\"password\":\"" PW "\",\"invite\":\"%s\"}", code[1]);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, NULL), 201);
    free(body);
    body = fmt("{\"username\":\"invited2\",\"password\":\"" PW "\",\"invite\":\"%s\"}", code[2]);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL, body, &r), 429);
    ck_assert_ptr_nonnull(lt_header(&r, "Retry-After"));
    lt_resp_clear(&r);
    free(body);
    ck_assert_int_eq(lt_server_stop(&s), 0);

    ck_assert_int_eq(lt_server_start(&s, closed, NULL), 0);
    ck_assert_int_eq(post(s.url, "/api/auth/register", NULL,
                          "{\"username\":\"closedout\",\"password\":\"" PW "\"}", &r),
                     403);
    ck_assert_ptr_nonnull(strstr(r.body, "closed"));
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    for (i = 0; i < 3; i++)
        free(code[i]);
    free(admin);
    free(user);
}
END_TEST

START_TEST(verified_email_required)
{
    struct sink k;
    struct lt_server s = {0};
    char smtp[64], *mail, *token, *body, *t = NULL;
    const char *env[] = {smtp, "LINTEL_SMTP_FROM=lintel@example.test", "LINTEL_PASSWORD_COST=3",
                         "LINTEL_REQUIRE_VERIFIED_EMAIL=true", NULL};
    struct lt_resp r;

    sink_start(&k);
    snprintf(smtp, sizeof(smtp), "LINTEL_SMTP_URL=smtp://127.0.0.1:%d", k.port);
    ck_assert_int_eq(lt_server_start(&s, env, NULL), 0);
    register_with_email(s.url, "verifyme");
    ck_assert_int_eq(post(s.url, "/api/auth/login", NULL,
                          "{\"username\":\"verifyme\",\"password\":\"" PW "\"}", &r),
                     403);
    ck_assert_ptr_nonnull(strstr(r.body, "erif"));
    lt_resp_clear(&r);
    /* the admin (no address) still logs in */
    ck_assert_int_eq(lt_login(s.url, "admin", LT_ADMIN_PASSWORD, NULL, &t, NULL), 0);
    free(t);
    t = NULL;
    mail = mail_wait(&k, 1);
    ck_assert_ptr_nonnull(strstr(mail, "X-Envelope-To: <verifyme@example.test>"));
    token = mail_token(mail);
    body = fmt("{\"token\":\"%s\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/email/verify", NULL, body, NULL), 200);
    ck_assert_int_eq(lt_login(s.url, "verifyme", PW, NULL, &t, NULL), 0);
    /* a new address needs the password, and is unverified again */
    ck_assert_int_eq(
        lt_json(s.url, "PATCH", "/api/users/me", t, "{\"email\":\"moved@example.test\"}", &r), 0);
    ck_assert_int_eq(r.status, 403);
    lt_resp_clear(&r);
    ck_assert_int_eq(lt_json(s.url, "PATCH", "/api/users/me", t,
                             "{\"email\":\"moved@example.test\",\"current_password\":\"" PW "\"}",
                             &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    lt_resp_clear(&r);
    free(mail);
    mail = mail_wait(&k, 2);
    ck_assert_ptr_nonnull(strstr(mail, "X-Envelope-To: <moved@example.test>"));
    ck_assert_int_eq(post(s.url, "/api/auth/login", NULL,
                          "{\"username\":\"verifyme\",\"password\":\"" PW "\"}", NULL),
                     403);
    /* a password reset through a mail to the new address verifies it too */
    ck_assert_int_eq(
        post(s.url, "/api/auth/password/forgot", NULL, "{\"email\":\"moved@example.test\"}", NULL),
        202);
    free(mail);
    mail = mail_wait(&k, 3);
    ck_assert_ptr_nonnull(strstr(mail, "Subject: Reset your password"));
    free(token);
    token = mail_token(mail);
    free(body);
    body = fmt("{\"token\":\"%s\",\"password\":\"" PW2 "\"}", token);
    ck_assert_int_eq(post(s.url, "/api/auth/password/reset", NULL, body, NULL), 204);
    free(t);
    t = NULL;
    ck_assert_int_eq(lt_login(s.url, "verifyme", PW2, NULL, &t, NULL), 0);
    ck_assert_int_eq(lt_server_stop(&s), 0);
    sink_stop(&k);
    free(mail);
    free(token);
    free(body);
    free(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("mail");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, forgot_reset_flow);
    tcase_add_test(tc, no_smtp_503);
    tcase_add_test(tc, smtp_down_retried_later);
    tcase_add_test(tc, invite_and_closed_registration);
    tcase_add_test(tc, verified_email_required);
    suite_add_tcase(s, tc);
    return lt_run_suite(s);
}
