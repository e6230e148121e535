/*
 * fuzz_common.h — what the fuzz targets share: how findings are reported,
 * which ERRORs a hostile input may raise, and using an accepted model.
 */
#ifndef GALAXY_FUZZ_COMMON_H
#define GALAXY_FUZZ_COMMON_H

#include "postgres.h"

#include "fmgr.h"

#include "model/model.h"

/* Name printed with findings; each target sets it in LLVMFuzzerInitialize. */
extern const char *fuzz_target_name;

/* Stop the fuzzer with a message: a broken invariant is a finding. */
extern void fuzz_finding(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

/*
 * SQLSTATEs a hostile or malformed input may produce: class 22 (data
 * exception), XX001 (data corrupted), 0A000, class 54 (program limits) and
 * 53200 (out of memory).  Anything else (XX000 above all) is a finding.
 */
extern bool fuzz_expected_sqlstate(int sqlstate);

/* After a caught ERROR: a finding unless its SQLSTATE is expected. */
extern void fuzz_check_error(const char *where);

/* Call a one-argument fmgr function directly. */
extern Datum fuzz_call1(PGFunction fn, Datum arg);

/* Store the right CRC-32C in a galaxy.model value when its sizes allow. */
extern void fuzz_repair_model_checksum(uint8 *buf, size_t len);

/*
 * Use an accepted model as the server would (preprocess, predict, class
 * range, probabilities, importances), then serialise it twice: the bytes
 * must be stable.  ERRORs while using it are checked like parse errors.
 */
extern void fuzz_use_model(GalaxyModel *m);

/* One-time setup every target needs (OpenBLAS threads). */
extern void fuzz_setup(const char *target);

#endif							/* GALAXY_FUZZ_COMMON_H */
