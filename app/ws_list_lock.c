/*
 * Serializes ulfius 2.7.13's list of active WebSockets. Its add reallocs the shared array
 * before taking the lock that its remove holds, so an upgrade racing a close can double-free.
 */
#include "ws_list_lock.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

/*
 * Both functions are exported by libulfius and called through its PLT (JUMP_SLOT relocations,
 * `objdump -R libulfius.so.2.7`), so these definitions in the executable take their place for
 * the library's own calls; each takes one process-wide lock and runs the library's version.
 * Their prototypes live in ulfius' private u_private.h: the struct types stay incomplete.
 */
struct _u_instance;
struct _websocket;

typedef int (*ws_list_fn)(struct _u_instance *instance, struct _websocket *websocket);

int ulfius_instance_add_websocket_active(struct _u_instance *instance,
                                         struct _websocket *websocket);
int ulfius_instance_remove_websocket_active(struct _u_instance *instance,
                                            struct _websocket *websocket);

static pthread_mutex_t ws_list_mutex = PTHREAD_MUTEX_INITIALIZER;

static int ws_list_call(const char *name, struct _u_instance *instance,
                        struct _websocket *websocket)
{
    ws_list_fn real;
    int rc = 1; /* U_ERROR: the library's function cannot be found (never with 2.7.13) */

    pthread_mutex_lock(&ws_list_mutex);
    *(void **)&real = dlsym(RTLD_NEXT, name);
    if (real != NULL)
        rc = real(instance, websocket);
    pthread_mutex_unlock(&ws_list_mutex);
    return rc;
}

int ulfius_instance_add_websocket_active(struct _u_instance *instance, struct _websocket *websocket)
{
    return ws_list_call("ulfius_instance_add_websocket_active", instance, websocket);
}

int ulfius_instance_remove_websocket_active(struct _u_instance *instance,
                                            struct _websocket *websocket)
{
    return ws_list_call("ulfius_instance_remove_websocket_active", instance, websocket);
}

int ws_list_lock_active(void)
{
    void *resolved = dlsym(RTLD_DEFAULT, "ulfius_instance_add_websocket_active");

    return resolved == (void *)ulfius_instance_add_websocket_active;
}
