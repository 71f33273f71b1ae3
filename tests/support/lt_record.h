/*
 * Records what the http tests' servers answer (LINTEL_TEST_REPLIES names a directory) so that
 * tests/schema/check_replies.mjs can validate every reply against that server's /openapi.json.
 */
#ifndef LINTEL_TESTS_LT_RECORD_H
#define LINTEL_TESTS_LT_RECORD_H

struct lt_resp;

/* Whether recording is on (LINTEL_TEST_REPLIES is set). */
int lt_record_on(void);

/* Empties the directory of earlier runs' records (the shared fixture's start does it). */
void lt_record_reset(void);

/*
 * A server that lt_server_start has just started at url (port): its /openapi.json is saved as
 * spec-<pid>-<n>.json, and the replies of url are checked against it until lt_record_forget.
 */
void lt_record_server(const char *url, int port);
void lt_record_forget(const char *url);

/* The spec file name of url (the shared fixture writes it down for the tests), or NULL. */
const char *lt_record_spec(const char *url);

/* Appends one reply of method base_url+path to replies-<pid>.jsonl. */
void lt_record_reply(const char *base_url, const char *method, const char *path,
                     const struct lt_resp *r);

#endif /* LINTEL_TESTS_LT_RECORD_H */
