/* client/main.c -- dns01 entry point: the ACME client for acme-dns compatible APIs */
/* SPDX-License-Identifier: ISC */

#include "client.h"

/* Everything happens in client_main (cmd.c), so tests can drive it too. */
int
main(int argc, char **argv)
{
	return client_main(argc, argv);
}
