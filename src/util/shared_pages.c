/*
 * shared_pages.c — map a relation's pages in the shared buffers into this
 * process on a second thread, while the backend's own thread scans it.
 *
 * A new backend (or parallel worker) has none of the shared buffers mapped:
 * the first read of each 4 kB page of the pool faults it in, one page table
 * entry at a time.  Where that is dear — a virtual machine whose page tables
 * the hypervisor shadows — it is most of a scan in a new connection: on the
 * benchmark's 2-core machine, reading one byte of each page of 200 MB of
 * shared memory took 355–385 ms in a new process, 240–255 ms with two
 * threads taking half each, and 2 ms for the second thread after the first
 * had read it all (the entries belong to the process, not the thread).
 *
 * So a loader that reads a large table into memory starts this thread
 * first.  It walks the buffer descriptors from the last to the first (the
 * scan starts at the first block; a table read into the buffers in order
 * lies in them in about that order, so the two meet near the middle) and
 * reads one byte of every page of each buffer that holds a block of the
 * relation's main fork.  It calls nothing of PostgreSQL's: it reads the
 * descriptors' tags without the header lock, a hint that may be stale or
 * torn, and a wrong guess only reads a page of the pool for nothing (every
 * address it forms lies inside the descriptor array or the pool).  It
 * stops when the scan says so (also on an ERROR, and before the process
 * exits on a FATAL one), or at the end of the descriptors.
 */
#include "postgres.h"

#include <unistd.h>

#include "access/relation.h"
#include "catalog/pg_class.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "utils/rel.h"

#include "galaxy.h"
#include "util/shared_pages.h"
#include "util/threads.h"

/*
 * Relations of fewer blocks are read without the thread, and so are those
 * smaller than 1/SHARED_PAGES_MIN_FRACTION of the pool: the walk reads
 * every descriptor, 64 bytes a buffer.
 */
#define SHARED_PAGES_MIN_BLOCKS		2048
#define SHARED_PAGES_MIN_FRACTION	16

/* The thread running now, if any: a FATAL exit stops it before the process tears down */
static struct SharedPageMapper *current = NULL;
static bool exit_hook = false;

struct SharedPageMapper
{
	RelFileNode node;
	BlockNumber nblocks;
	Size		page;			/* the OS page size */
	volatile bool stop;			/* set by the backend's thread */
	GalaxyThread thread;
};

static void *
shared_pages_thread(void *arg)
{
	SharedPageMapper *m = (SharedPageMapper *) arg;
	uint32		sum = 0;

	for (int i = NBuffers - 1; i >= 0; i--)
	{
		const volatile BufferDesc *d = GetBufferDescriptor(i);
		RelFileNode node;
		ForkNumber	fork;
		BlockNumber block;
		const volatile char *b;

		if ((i & 255) == 0 && m->stop)
			break;
		node.spcNode = d->tag.rnode.spcNode;
		node.dbNode = d->tag.rnode.dbNode;
		node.relNode = d->tag.rnode.relNode;
		fork = d->tag.forkNum;
		block = d->tag.blockNum;
		if (node.relNode != m->node.relNode || node.dbNode != m->node.dbNode ||
			node.spcNode != m->node.spcNode || fork != MAIN_FORKNUM || block >= m->nblocks)
			continue;
		b = (const volatile char *) (BufferBlocks + (Size) i * BLCKSZ);
		for (Size off = 0; off < BLCKSZ; off += m->page)
			sum += (unsigned char) b[off];
	}
	/* the reads are the point; keep the compiler from dropping them */
	__asm__ __volatile__("" : : "r"(sum));
	return NULL;
}

static void
shared_pages_exit(int code, Datum arg)
{
	shared_pages_map_stop(current);
}

/*
 * Start the thread for rel (see above), or return NULL when it would not
 * help.  One runs at a time: an earlier one is stopped first.  The thread's
 * state is malloc'd, not palloc'd: a thread an ERROR left running (its
 * stop skipped) reads nothing freed, ends at the end of the descriptors at
 * the latest, and is joined by the next start, stop or exit.
 */
SharedPageMapper *
shared_pages_map_start(Relation rel)
{
	SharedPageMapper *m;
	BlockNumber nblocks;
	long		page = sysconf(_SC_PAGESIZE);

	if (galaxy_threads < 2 || !RELKIND_HAS_STORAGE(rel->rd_rel->relkind) || RelationUsesLocalBuffers(rel) ||
		page <= 0 || page >= BLCKSZ)
		return NULL;
	nblocks = RelationGetNumberOfBlocks(rel);
	if (nblocks < SHARED_PAGES_MIN_BLOCKS ||
		(double) nblocks * SHARED_PAGES_MIN_FRACTION < (double) NBuffers)
		return NULL;
	shared_pages_map_stop(current);
	if (!exit_hook)
	{
		before_shmem_exit(shared_pages_exit, (Datum) 0);
		exit_hook = true;
	}
	m = calloc(1, sizeof(SharedPageMapper));
	if (m == NULL)
		return NULL;
	m->node = rel->rd_node;
	m->nblocks = nblocks;
	m->page = (Size) page;
	if (!galaxy_thread_start(&m->thread, shared_pages_thread, m))
	{
		free(m);
		return NULL;
	}
	current = m;
	return m;
}

/* The same for the relation relid, if it still exists (its lock is kept to the end of the transaction). */
SharedPageMapper *
shared_pages_map_start_relid(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	SharedPageMapper *m;

	if (rel == NULL)
		return NULL;
	m = shared_pages_map_start(rel);
	relation_close(rel, NoLock);
	return m;
}

/*
 * Stop and wait for the thread, and free it; also on the way out of an
 * ERROR.  Only the current one: NULL, or one a later start has already
 * stopped (a nested training's load), is nothing to do.
 */
void
shared_pages_map_stop(SharedPageMapper *m)
{
	if (m == NULL || m != current)
		return;
	m->stop = true;
	galaxy_thread_join(&m->thread);
	current = NULL;
	free(m);
}
