/*
 * systemd readiness through libsystemd's sd_notify: a no-op unless NOTIFY_SOCKET is set, i.e.
 * outside a Type=notify unit nothing is sent and nothing fails.
 */
#include "sd_notify.h"

#include "log.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>

void sd_notify_ready(const char *url)
{
    char status[256];
    int rc;

    snprintf(status, sizeof(status), "READY=1\nSTATUS=serving on %s", url != NULL ? url : "");
    rc = sd_notify(0, status);
    if (rc < 0)
        log_warn("systemd: cannot report readiness (sd_notify: %d)", rc);
}

void sd_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: in-flight requests finish");
}
