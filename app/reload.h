/*
 * SIGHUP: the configuration read again, and of it what can change while the server runs (the
 * log level, the TLS certificate and key); every other key needs a restart.
 */
#ifndef LINTEL_APP_RELOAD_H
#define LINTEL_APP_RELOAD_H

/*
 * Reads the configuration as at start (config_path, may be NULL, then LINTEL_* variables) and
 * applies log_level and, when the server serves TLS, tls_cert/tls_key. Whatever fails (a bad
 * file, a certificate that does not load) is logged as an error and changes nothing of its
 * part: the served certificate stays. Called by the main thread only.
 */
void reload_apply(const char *config_path);

#endif /* LINTEL_APP_RELOAD_H */
