/*
 * The browser pages lintel serves itself (/docs, /admin) and their assets (/assets/{file})
 * from web_dir: Swagger UI and uPlot from pinned npm packages, and lintel's own pages.
 */
#ifndef LINTEL_APP_WEB_H
#define LINTEL_APP_WEB_H

#include <lintel/plugin.h>

/* Core route handlers (public: the pages hold no data, the API calls they make do). */
int web_docs_handler(lintel_req *req, lintel_res *res, void *state);
int web_admin_handler(lintel_req *req, lintel_res *res, void *state);
int web_asset_handler(lintel_req *req, lintel_res *res, void *state);

#endif /* LINTEL_APP_WEB_H */
