/*
 * The storage of the process counters (counters.h): zero at start, only ever incremented.
 * Apart from metrics.c so that db.c can count without depending on the endpoint.
 */
#include "counters.h"

atomic_ullong counters[COUNTER_N];
