/*
 * A client of a dqlite cluster over its wire protocol: a TCP connection to one node, leader
 * discovery (ask any member, then confirm with the leader), statements and management requests.
 */
#include "dqlite_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define DQC_PROTOCOL_VERSION 1
/* Every answer but DUMP's is small or arrives in batches of about a page: this bounds them. */
#define DQC_MAX_MESSAGE (64u * 1024u * 1024u)

/* "host:port" (or "[v6]:port") into host and port. */
static int dqc_split(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon = strrchr(addr, ':');
    const char *h = addr;
    size_t hlen;

    if (colon == NULL || colon[1] == '\0')
        return -1;
    hlen = (size_t)(colon - addr);
    if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= hsize || strlen(colon + 1) >= psize)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, psize, "%s", colon + 1);
    return 0;
}

/* A TCP connection to addr within timeout_ms, with that timeout on every read and write. */
static int dqc_dial(const char *addr, unsigned timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    struct pollfd pfd;
    char host[128], port[16];
    int one = 1, err = 0, fd = -1, flags;
    socklen_t elen = sizeof(err);

    if (dqc_split(addr, host, sizeof(host), port, sizeof(port)) != 0 ||
        getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        goto fail;
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, (int)timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            goto fail;
    }
    if (fcntl(fd, F_SETFL, flags) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
        goto fail;
    freeaddrinfo(res);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -1;
}

int dqc_connect(const char *addr, unsigned timeout_ms, struct dqc **out)
{
    unsigned char version[8] = {DQC_PROTOCOL_VERSION};
    struct dqc *c;
    int rc;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return DQW_ENOMEM;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    c->fd = dqc_dial(addr, timeout_ms > 0 ? timeout_ms : DQC_DEFAULT_TIMEOUT_MS);
    if (c->fd < 0) {
        free(c);
        return DQW_EIO;
    }
    rc = dqw_write_all(c->fd, version, sizeof(version));
    if (rc != 0) {
        dqc_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void dqc_free(struct dqc *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    dqw_out_release(&c->out);
    dqw_in_release(&c->in);
    free(c);
}

/* Sends c->out as a request of type and reads the answer: DQC_EFAIL for FAILURE. */
static int dqc_roundtrip(struct dqc *c, uint8_t type, size_t max)
{
    const char *msg = NULL;
    uint64_t code = 0;
    int rc;

    rc = dqw_send(c->fd, type, &c->out);
    if (rc == 0)
        rc = dqw_recv(c->fd, max, &c->in);
    if (rc != 0)
        return rc;
    if (c->in.type != DQW_RES_FAILURE)
        return 0;
    if (dqw_get_u64(&c->in, &code) != 0 || dqw_get_text(&c->in, &msg) != 0)
        return DQW_EPROTO;
    c->fail_code = (int)code;
    snprintf(c->fail_msg, sizeof(c->fail_msg), "%s", msg);
    return DQC_EFAIL;
}

/* A round trip whose answer must be of type expect. */
static int dqc_call(struct dqc *c, uint8_t type, uint8_t expect)
{
    int rc = dqc_roundtrip(c, type, DQC_MAX_MESSAGE);

    if (rc == 0 && c->in.type != expect)
        rc = DQW_EPROTO;
    return rc;
}

int dqc_leader(struct dqc *c, uint64_t *id, char **addr)
{
    const char *a = NULL;
    int rc;

    *addr = NULL;
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, 0);
    rc = dqc_call(c, DQW_REQ_LEADER, DQW_RES_SERVER);
    if (rc == 0 && (dqw_get_u64(&c->in, id) != 0 || dqw_get_text(&c->in, &a) != 0))
        rc = DQW_EPROTO;
    if (rc == 0 && (*addr = strdup(a)) == NULL)
        rc = DQW_ENOMEM;
    return rc;
}

int dqc_open(struct dqc *c, const char *name)
{
    int rc;

    dqw_out_reset(&c->out);
    dqw_put_text(&c->out, name);
    dqw_put_u64(&c->out, 0);
    dqw_put_text(&c->out, "volatile");
    rc = dqc_call(c, DQW_REQ_OPEN, DQW_RES_DB);
    c->db_open = rc == 0;
    return rc;
}

/* Asks the node at addr for the leader; a connection to it (database open) when it is one. */
static int dqc_try_leader(const char *addr, const char *name, unsigned timeout_ms, struct dqc **out)
{
    struct dqc *c = NULL, *l = NULL;
    char *leader = NULL, *again = NULL;
    uint64_t id = 0;
    int rc;

    *out = NULL;
    rc = dqc_connect(addr, timeout_ms, &c);
    if (rc == 0)
        rc = dqc_leader(c, &id, &leader);
    if (rc != 0)
        goto cleanup;
    if (leader[0] == '\0') {
        rc = DQW_EIO; /* this node knows no leader now (an election is on) */
        goto cleanup;
    }
    if (strcmp(leader, addr) == 0) {
        l = c; /* it names itself: that is the confirmation */
        c = NULL;
    } else {
        rc = dqc_connect(leader, timeout_ms, &l);
        if (rc != 0)
            goto cleanup;
        /* The leader confirms it still leads: a follower's knowledge may be a term old. */
        rc = dqc_leader(l, &id, &again);
        if (rc == 0 && strcmp(again, leader) != 0)
            rc = DQW_EIO;
    }
    if (rc == 0 && name != NULL)
        rc = dqc_open(l, name);
    if (rc == 0) {
        *out = l;
        l = NULL;
    }
cleanup:
    dqc_free(c);
    dqc_free(l);
    free(leader);
    free(again);
    return rc;
}

int dqc_connect_leader(const char *const *addrs, size_t n, const char *name, unsigned timeout_ms,
                       struct dqc **out)
{
    size_t i;
    int rc = DQW_EIO;

    *out = NULL;
    for (i = 0; i < n && *out == NULL; i++) {
        rc = dqc_try_leader(addrs[i], name, timeout_ms, out);
        if (rc == DQW_ENOMEM)
            break;
    }
    return *out != NULL ? 0 : (rc == DQC_EFAIL || rc == 0 ? DQW_EIO : rc);
}

int dqc_prepare(struct dqc *c, const char *sql, uint32_t *stmt_id, uint64_t *nparams)
{
    uint32_t db_id;
    uint64_t np = 0;
    int rc;

    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, 0);
    dqw_put_text(&c->out, sql);
    rc = dqc_call(c, DQW_REQ_PREPARE, DQW_RES_STMT);
    if (rc == 0 && (dqw_get_u32x2(&c->in, &db_id, stmt_id) != 0 || dqw_get_u64(&c->in, &np) != 0))
        rc = DQW_EPROTO;
    if (nparams != NULL)
        *nparams = np;
    return rc;
}

int dqc_finalize(struct dqc *c, uint32_t stmt_id)
{
    dqw_out_reset(&c->out);
    dqw_put_u32x2(&c->out, 0, stmt_id);
    return dqc_call(c, DQW_REQ_FINALIZE, DQW_RES_EMPTY);
}

static int dqc_result(struct dqc *c, int64_t *last_id, int64_t *changes)
{
    uint64_t id = 0, n = 0;

    if (dqw_get_u64(&c->in, &id) != 0 || dqw_get_u64(&c->in, &n) != 0)
        return DQW_EPROTO;
    if (last_id != NULL)
        *last_id = (int64_t)id;
    if (changes != NULL)
        *changes = (int64_t)n;
    return 0;
}

int dqc_exec(struct dqc *c, uint32_t stmt_id, json_t *const *params, size_t n,
             const struct dqw_blob *blob, int64_t *last_id, int64_t *changes)
{
    int rc;

    dqw_out_reset(&c->out);
    dqw_put_u32x2(&c->out, 0, stmt_id);
    rc = dqw_put_params(&c->out, params, n, blob);
    if (rc == 0)
        rc = dqc_call(c, DQW_REQ_EXEC, DQW_RES_RESULT);
    if (rc == 0)
        rc = dqc_result(c, last_id, changes);
    return rc;
}

int dqc_exec_sql(struct dqc *c, const char *sql, json_t *const *params, size_t n)
{
    int rc;

    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, 0);
    dqw_put_text(&c->out, sql);
    rc = dqw_put_params(&c->out, params, n, NULL);
    if (rc == 0)
        rc = dqc_call(c, DQW_REQ_EXEC_SQL, DQW_RES_RESULT);
    if (rc == 0)
        rc = dqc_result(c, NULL, NULL);
    return rc;
}

/* One ROWS message: the column names, then rows up to the PART or DONE marker. */
static int dqc_rows_batch(struct dqc *c, dqc_row_fn on_row, void *arg, bool *done)
{
    const char **names = NULL;
    struct dqw_value *values = NULL;
    uint64_t ncol = 0, marker;
    size_t i;
    int rc;

    rc = dqw_get_u64(&c->in, &ncol);
    /* Each column takes at least 8 bytes of the body: more cannot be honest. */
    if (rc == 0 && (ncol == 0 || ncol > c->in.len / 8))
        rc = DQW_EPROTO;
    if (rc != 0)
        goto cleanup;
    names = calloc((size_t)ncol, sizeof(*names));
    values = calloc((size_t)ncol, sizeof(*values));
    if (names == NULL || values == NULL) {
        rc = DQW_ENOMEM;
        goto cleanup;
    }
    for (i = 0; i < ncol && rc == 0; i++)
        rc = dqw_get_text(&c->in, &names[i]);
    while (rc == 0) {
        if (c->in.len - c->in.pos < 8) {
            rc = DQW_EPROTO;
            break;
        }
        /* The end markers are whole words of 0xee or 0xff; a row header never is. */
        memcpy(&marker, c->in.body + c->in.pos, 8);
        if (marker == DQW_ROWS_DONE || marker == DQW_ROWS_PART) {
            *done = marker == DQW_ROWS_DONE;
            c->in.pos += 8;
            break;
        }
        rc = dqw_get_row(&c->in, (size_t)ncol, values);
        if (rc == 0 && on_row != NULL)
            rc = on_row(arg, (size_t)ncol, names, values);
    }
cleanup:
    free(names);
    free(values);
    return rc;
}

int dqc_query(struct dqc *c, uint32_t stmt_id, const char *sql, json_t *const *params, size_t n,
              dqc_row_fn on_row, void *arg)
{
    bool done = false;
    int rc, keep = 0;

    dqw_out_reset(&c->out);
    if (sql != NULL) {
        dqw_put_u64(&c->out, 0);
        dqw_put_text(&c->out, sql);
    } else {
        dqw_put_u32x2(&c->out, 0, stmt_id);
    }
    rc = dqw_put_params(&c->out, params, n, NULL);
    if (rc == 0)
        rc = dqc_call(c, sql != NULL ? DQW_REQ_QUERY_SQL : DQW_REQ_QUERY, DQW_RES_ROWS);
    while (rc == 0) {
        /* After a callback's own status the batches are still read: the stream stays in step. */
        rc = dqc_rows_batch(c, keep == 0 ? on_row : NULL, arg, &done);
        if (rc != 0 && rc != DQW_EIO && rc != DQW_EPROTO && rc != DQW_ENOMEM) {
            keep = rc;
            rc = 0;
        }
        if (rc != 0 || done)
            break;
        rc = dqw_recv(c->fd, DQC_MAX_MESSAGE, &c->in);
        if (rc == 0 && c->in.type == DQW_RES_FAILURE) {
            uint64_t code = 0;
            const char *msg = "";
            if (dqw_get_u64(&c->in, &code) != 0 || dqw_get_text(&c->in, &msg) != 0)
                return DQW_EPROTO;
            c->fail_code = (int)code;
            snprintf(c->fail_msg, sizeof(c->fail_msg), "%s", msg);
            return DQC_EFAIL;
        }
        if (rc == 0 && c->in.type != DQW_RES_ROWS)
            rc = DQW_EPROTO;
    }
    return rc != 0 ? rc : keep;
}

static const char *dqc_role_name(uint64_t role)
{
    return role == DQC_VOTER ? "voter" : role == DQC_STANDBY ? "standby" : "spare";
}

int dqc_cluster(struct dqc *c, json_t **j_members)
{
    json_t *j_list = NULL;
    uint64_t n = 0, i, id, role;
    const char *addr;
    int rc;

    *j_members = NULL;
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, 1); /* format 1: with roles */
    rc = dqc_call(c, DQW_REQ_CLUSTER, DQW_RES_SERVERS);
    if (rc == 0 && (dqw_get_u64(&c->in, &n) != 0 || n > c->in.len / 24))
        rc = DQW_EPROTO;
    if (rc != 0)
        return rc;
    j_list = json_array();
    for (i = 0; i < n && j_list != NULL; i++) {
        if (dqw_get_u64(&c->in, &id) != 0 || dqw_get_text(&c->in, &addr) != 0 ||
            dqw_get_u64(&c->in, &role) != 0) {
            json_decref(j_list);
            return DQW_EPROTO;
        }
        if (json_array_append_new(j_list, json_pack("{sI ss ss}", "id", (json_int_t)id, "address",
                                                    addr, "role", dqc_role_name(role))) != 0) {
            json_decref(j_list);
            j_list = NULL;
        }
    }
    if (j_list == NULL)
        return DQW_ENOMEM;
    *j_members = j_list;
    return 0;
}

int dqc_add(struct dqc *c, uint64_t id, const char *addr)
{
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, id);
    dqw_put_text(&c->out, addr);
    return dqc_call(c, DQW_REQ_ADD, DQW_RES_EMPTY);
}

int dqc_assign(struct dqc *c, uint64_t id, int role)
{
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, id);
    dqw_put_u64(&c->out, (uint64_t)role);
    return dqc_call(c, DQW_REQ_ASSIGN, DQW_RES_EMPTY);
}

int dqc_remove(struct dqc *c, uint64_t id)
{
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, id);
    return dqc_call(c, DQW_REQ_REMOVE, DQW_RES_EMPTY);
}

int dqc_transfer(struct dqc *c, uint64_t id)
{
    dqw_out_reset(&c->out);
    dqw_put_u64(&c->out, id);
    return dqc_call(c, DQW_REQ_TRANSFER, DQW_RES_EMPTY);
}

/* Writes len bytes to dir/name (name without a '/'), mode 0600. */
static int dqc_write_file(const char *dir, const char *name, const unsigned char *p, size_t len)
{
    char path[4096];
    int fd, rc;

    if (strchr(name, '/') != NULL || name[0] == '\0' || name[0] == '.' ||
        snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return DQW_EPROTO;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return DQW_EIO;
    rc = dqw_write_all(fd, p, len);
    if (close(fd) != 0 && rc == 0)
        rc = DQW_EIO;
    return rc;
}

int dqc_dump(struct dqc *c, const char *name, const char *dir, size_t max)
{
    const unsigned char *data;
    const char *fname;
    uint64_t n = 0, i, len;
    int rc;

    dqw_out_reset(&c->out);
    dqw_put_text(&c->out, name);
    rc = dqc_roundtrip(c, DQW_REQ_DUMP, max);
    if (rc == 0 && c->in.type != DQW_RES_FILES)
        rc = DQW_EPROTO;
    if (rc == 0 && (dqw_get_u64(&c->in, &n) != 0 || n > 2))
        rc = DQW_EPROTO;
    for (i = 0; i < n && rc == 0; i++) {
        if (dqw_get_text(&c->in, &fname) != 0 || dqw_get_u64(&c->in, &len) != 0 ||
            len > c->in.len || dqw_get_bytes(&c->in, (size_t)len, &data) != 0)
            rc = DQW_EPROTO;
        else
            rc = dqc_write_file(dir, fname, data, (size_t)len);
    }
    return rc;
}

const char *dqc_strerror(const struct dqc *c, int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case DQC_EFAIL:
        return c != NULL ? c->fail_msg : "the node refused the request";
    case DQW_EIO:
        return "the node cannot be reached (connection failed or timed out)";
    case DQW_EPROTO:
        return "the node sent an answer that does not decode";
    case DQW_ENOMEM:
        return "out of memory";
    case DQW_EVALUE:
        return "a parameter cannot be sent (text with a NUL byte, or more than 255)";
    default:
        return "error";
    }
}
