/*
 * The handler of the test plugins the loader must refuse: their routes are never served, so
 * one stub answers for all of them.
 */
#ifndef LINTEL_TESTS_PLUGINS_REFUSED_H
#define LINTEL_TESTS_PLUGINS_REFUSED_H

#include <lintel/plugin.h>

static int refused_handler(lintel_req *req, lintel_res *res, void *state)
{
    (void)req;
    (void)res;
    (void)state;
    return LINTEL_EINTERNAL;
}

#endif /* LINTEL_TESTS_PLUGINS_REFUSED_H */
