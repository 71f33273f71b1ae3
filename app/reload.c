/*
 * SIGHUP: reads the configuration again and applies the log level and the TLS pair, each on
 * its own, keeping the old one whenever the new one is unusable.
 */
#include "reload.h"

#include "config.h"
#include "log.h"
#include "server_tls.h"

#include <stdlib.h>

void reload_apply(const char *config_path)
{
    struct config cfg;
    char *err = NULL, fingerprint[65];

    if (config_load(&cfg, config_path, &err) != 0) {
        log_error("reload: the configuration is not usable, nothing changed: %s",
                  err != NULL ? err : "unknown error");
        free(err);
        return;
    }
    /* config_load accepted it, so this is one of the four words */
    log_set_level(cfg.log_level);
    log_always("reload: log_level %s", cfg.log_level);
    if (server_tls_loaded()) {
        if (cfg.tls_cert == NULL || cfg.tls_key == NULL) {
            log_error("reload: tls_cert or tls_key is no longer set; the served certificate "
                      "stays (switching TLS off needs a restart)");
        } else if (server_tls_load(cfg.tls_cert, cfg.tls_key, &err) != 0) {
            log_error("reload: %s; the served certificate stays",
                      err != NULL ? err : "the TLS pair cannot be loaded");
            free(err);
        } else {
            server_tls_fingerprint(fingerprint);
            log_always("reload: new TLS connections get %s (sha256 %s)", cfg.tls_cert, fingerprint);
        }
    } else if (cfg.tls_cert != NULL) {
        log_error("reload: tls_cert is set but the server started without TLS: restart to "
                  "serve HTTPS");
    }
    config_release(&cfg);
}
