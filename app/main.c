/*
 * PLACEHOLDER (owner: host). lintel's command line.
 */
#include <lintel/version.h>
#include <stdio.h>

int main(void)
{
    printf("lintel %s\n", LINTEL_VERSION);
    return 0;
}
