/* `destek demo`: fills a desk with a small demo shop (Anadolu Tekstil), through the plugin's own functions. */
#ifndef TKT_DEMO_H
#define TKT_DEMO_H
#include <stdio.h>

/* Runs with the store open and the core initialised (the caller holds the data directory's lock). size 0: the
 * demo shop (agents, customers, a few hundred tickets, printed log-ins); size > 0: a bench database of size
 * tickets with 5 messages each, written in bulk. Refuses (1) when tickets exist unless force. Exit code. */
int tkt_demo_fill(int force, long size, FILE *out);

#endif
