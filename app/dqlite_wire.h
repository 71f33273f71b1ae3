/*
 * dqlite's wire protocol, the bytes only: 8-byte framed little-endian messages, their fields
 * (uint64, uint32 pairs, padded text, parameter tuples, row tuples) and sending/receiving them.
 */
#ifndef LINTEL_APP_DQLITE_WIRE_H
#define LINTEL_APP_DQLITE_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Request and response types (dqlite's protocol.h, protocol version 1). */
enum {
    DQW_REQ_LEADER = 0,
    DQW_REQ_CLIENT = 1,
    DQW_REQ_OPEN = 3,
    DQW_REQ_PREPARE = 4,
    DQW_REQ_EXEC = 5,
    DQW_REQ_QUERY = 6,
    DQW_REQ_FINALIZE = 7,
    DQW_REQ_EXEC_SQL = 8,
    DQW_REQ_QUERY_SQL = 9,
    DQW_REQ_ADD = 12,
    DQW_REQ_ASSIGN = 13,
    DQW_REQ_REMOVE = 14,
    DQW_REQ_DUMP = 15,
    DQW_REQ_CLUSTER = 16,
    DQW_REQ_TRANSFER = 17,
};
enum {
    DQW_RES_FAILURE = 0,
    DQW_RES_SERVER = 1,
    DQW_RES_WELCOME = 2,
    DQW_RES_SERVERS = 3,
    DQW_RES_DB = 4,
    DQW_RES_STMT = 5,
    DQW_RES_RESULT = 6,
    DQW_RES_ROWS = 7,
    DQW_RES_EMPTY = 8,
    DQW_RES_FILES = 9,
};

/* Value type codes in tuples (SQLite's, plus dqlite's time and boolean kinds). */
enum {
    DQW_INTEGER = 1,
    DQW_FLOAT = 2,
    DQW_TEXT = 3,
    DQW_BLOB = 4,
    DQW_NULL = 5,
    DQW_UNIXTIME = 9,
    DQW_ISO8601 = 10,
    DQW_BOOLEAN = 11,
};

#define DQW_ROWS_PART 0xeeeeeeeeeeeeeeeeULL /* this batch is over, more follow */
#define DQW_ROWS_DONE 0xffffffffffffffffULL /* the result set is complete */

/* Status of the functions below: 0, or one of these. */
#define DQW_EIO    (-1001) /* the socket failed or timed out: the connection is unusable */
#define DQW_EPROTO (-1002) /* the peer sent bytes that do not decode, or more than allowed */
#define DQW_ENOMEM (-1003)
#define DQW_EVALUE (-1004) /* a value cannot be sent (text with a NUL byte) */

/* A message body being written: grows in 8-byte words. */
struct dqw_out {
    unsigned char *p;
    size_t len, cap;
    bool failed; /* an allocation failed: sending it is refused */
};

void dqw_out_reset(struct dqw_out *o);
void dqw_out_release(struct dqw_out *o);
void dqw_put_u64(struct dqw_out *o, uint64_t v);
void dqw_put_u32x2(struct dqw_out *o, uint32_t a, uint32_t b);
void dqw_put_text(struct dqw_out *o, const char *s);
/* Bytes sent as a BLOB parameter. */
struct dqw_blob {
    const void *p;
    size_t len;
};

/*
 * A tuple of statement parameters (the 1-byte-count format, at most 255): JSON values as
 * db.c binds them (true/false as 1/0, arrays and objects as compact JSON text), then blob as
 * one more when it is not NULL.
 */
int dqw_put_params(struct dqw_out *o, json_t *const *values, size_t n, const struct dqw_blob *blob);

/* A received message: its type and body, read with the cursor pos. */
struct dqw_in {
    uint8_t type;
    unsigned char *body;
    size_t len, pos;
};

void dqw_in_release(struct dqw_in *in);
int dqw_get_u64(struct dqw_in *in, uint64_t *v);
int dqw_get_u32x2(struct dqw_in *in, uint32_t *a, uint32_t *b);
int dqw_get_text(struct dqw_in *in, const char **s); /* borrowed from the body */
int dqw_get_bytes(struct dqw_in *in, size_t n, const unsigned char **p);

/* One decoded row value; text and blob point into the message body. */
struct dqw_value {
    int type;
    int64_t i;
    double d;
    const char *text;
    size_t len;
};

/* The values of one row of ncol columns (the 4-bit type header, then the values). */
int dqw_get_row(struct dqw_in *in, size_t ncol, struct dqw_value *values);

/* Writes all of buf to fd (timeouts are the socket's). */
int dqw_write_all(int fd, const void *buf, size_t len);
/* Sends one request: its header (type, body length in words) and body. */
int dqw_send(int fd, uint8_t type, const struct dqw_out *body);
/* Receives one response whose body is at most max bytes. */
int dqw_recv(int fd, size_t max, struct dqw_in *in);

#endif /* LINTEL_APP_DQLITE_WIRE_H */
