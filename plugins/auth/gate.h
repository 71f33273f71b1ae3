/*
 * The operator's gates on registration, kept apart from the token flows of auth.c: open,
 * closed or by invitation, and the per-address throttle (docs/auth.md "Operator controls").
 */
#ifndef LINTEL_PLUGINS_AUTH_GATE_H
#define LINTEL_PLUGINS_AUTH_GATE_H

#include <jansson.h>
#include <lintel/kit.h>

struct authp_gate {
    const char *registration; /* "open", "closed" or "invite" */
    long long register_max_ip;
};

/* Reads the settings (during init). */
int authp_gate_init(struct authp_gate *g, lintel_plugin *p);

/*
 * Before a registration: 403 when closed, 429 with Retry-After past register_max_ip in the
 * hour, and in invite mode 403 without a live code (body "invite"), which is then claimed
 * (used_at set: two registrations racing for one code, one wins). *invite gets the claimed
 * code (borrowed from j_body), NULL when none was needed.
 */
int authp_gate_register(struct authp_gate *g, lintel_req *req, lintel_res *res,
                        const json_t *j_body, const char **invite);

/*
 * After it: user_id > 0 (created) records the code's user and counts the address; 0 (refused,
 * say a taken name) gives the claimed code back. Best effort: the reply is already decided.
 */
void authp_gate_registered(struct authp_gate *g, lintel_req *req, const char *invite,
                           long long user_id);

#endif /* LINTEL_PLUGINS_AUTH_GATE_H */
