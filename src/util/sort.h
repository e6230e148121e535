/*
 * sort.h — sorting doubles for quantiles (bin edges, drift baselines).
 */
#ifndef GALAXY_SORT_H
#define GALAXY_SORT_H

/*
 * Sort n doubles (no NaN) ascending.  tmp holds 2 x n keys (a radix sort's
 * buffers); small inputs use a quicksort and need none.  Pure arithmetic: no
 * allocation, no PostgreSQL call, so a thread may run it.
 */
extern void galaxy_sort_doubles(double *a, int64 n, uint64 *tmp);

#endif							/* GALAXY_SORT_H */
