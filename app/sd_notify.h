/*
 * Readiness for systemd (Type=notify units, packaging/lintel.service): tells the service
 * manager when lintel serves and when it stops. Does nothing outside systemd.
 */
#ifndef LINTEL_APP_SD_NOTIFY_H
#define LINTEL_APP_SD_NOTIFY_H

/* The server listens: READY=1 (systemd starts the units that wait for lintel now). */
void sd_notify_ready(const char *url);

/* A stop began: STOPPING=1, so systemd reports "deactivating" while requests finish. */
void sd_notify_stopping(void);

#endif /* LINTEL_APP_SD_NOTIFY_H */
