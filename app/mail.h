/*
 * Outgoing mail: templates (built in, or an operator's files in mail_templates) rendered into
 * an RFC 5322 message and sent over SMTP with libcurl (smtp_url, smtp_from, credentials).
 */
#ifndef LINTEL_APP_MAIL_H
#define LINTEL_APP_MAIL_H

#include <jansson.h>
#include <stdbool.h>

struct config;

/* Whether smtp_url is set: without it nothing is sent and the mail routes answer 503. */
bool mail_configured(const struct config *cfg);

/*
 * Renders template name ("reset", "verify") with j_vars (an object of strings: {{key}} is
 * replaced by its value, unknown keys by nothing) into *subject and *body (malloc'd; body
 * lines end with CRLF). The operator's file mail_templates/<name>.txt wins over the built-in
 * one. Its first line must be "Subject: ...". LINTEL_EPARAM with a log line otherwise.
 */
int mail_render(const struct config *cfg, const char *name, const json_t *j_vars, char **subject,
                char **body);

/* Sends one plain-text mail to the address to. 0, or LINTEL_EUPSTREAM (logged, no secrets). */
int mail_send(const struct config *cfg, const char *to, const char *subject, const char *body);

#endif /* LINTEL_APP_MAIL_H */
