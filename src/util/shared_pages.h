/*
 * shared_pages.h — map a relation's shared-buffer pages into this process
 * on a second thread while the backend scans it (see shared_pages.c).
 */
#ifndef GALAXY_SHARED_PAGES_H
#define GALAXY_SHARED_PAGES_H

#include "utils/relcache.h"

typedef struct SharedPageMapper SharedPageMapper;

extern SharedPageMapper *shared_pages_map_start(Relation rel);
extern SharedPageMapper *shared_pages_map_start_relid(Oid relid);
extern void shared_pages_map_stop(SharedPageMapper *m);

#endif							/* GALAXY_SHARED_PAGES_H */
