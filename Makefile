# galaxy — PGXS build
EXTENSION  = galaxy
EXTVERSION = 0.2.0
# The release the upgrade script being written for this one starts from
# (see upgrade/README.md): galaxy--$(UPGRADE_FROM)--$(EXTVERSION).sql
UPGRADE_FROM = 0.1.0

MODULE_big = galaxy
# srcdir is set by PGXS; VPATH (out-of-tree) builds work: make -f SRC/Makefile VPATH=SRC
SRCDIR    := $(or $(VPATH),.)
SRCS       = $(sort $(patsubst $(SRCDIR)/%,%,$(wildcard $(SRCDIR)/src/*.c $(SRCDIR)/src/*/*.c)))
OBJS       = $(SRCS:.c=.o)

SQL_PARTS  = $(sort $(wildcard $(SRCDIR)/src/sql/*.sql))
# The parts an upgrade script runs again after its own changes: grants,
# row-level security and comments, written to be re-runnable
RERUN_PARTS = $(SRCDIR)/src/sql/90_roles_grants.sql $(SRCDIR)/src/sql/95_comments.sql
# Parts of src/sql/ new in this release as a whole: the update appends them
# after its own changes (before the re-runnable parts)
UPGRADE_NEW_PARTS = $(SRCDIR)/src/sql/69_scale.sql $(SRCDIR)/src/sql/76_schedules_logging.sql \
                    $(SRCDIR)/src/sql/77_monitoring_views.sql
UPGRADE    = galaxy--$(UPGRADE_FROM)--$(EXTVERSION).sql
DATA_built = galaxy--$(EXTVERSION).sql $(UPGRADE)
# Released scripts, frozen: every earlier version's install script and the
# upgrade scripts between released versions
DATA       = $(patsubst $(SRCDIR)/%,%,$(sort $(wildcard $(SRCDIR)/upgrade/galaxy--*.sql)))

REGRESS      = $(basename $(notdir $(sort $(wildcard $(SRCDIR)/sql/*.sql))))
REGRESS_OPTS = --inputdir=$(SRCDIR) --load-extension=galaxy

PG_CPPFLAGS = -I$(SRCDIR)/src -I/usr/include/x86_64-linux-gnu/openblas-pthread
# GALAXY_DEV=1 drops -Werror while several people edit the tree; CI never sets it
WERROR     := $(if $(GALAXY_DEV),,-Werror)
PG_CFLAGS   = -std=gnu11 -Wall -Wextra $(WERROR) -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare -Wno-cast-function-type
SHLIB_LINK  = -lopenblas -llz4 -lm -lpthread -Wl,-z,now

EXTRA_CLEAN = galaxy--$(EXTVERSION).sql $(UPGRADE) test/fuzz/fuzz_model test/fuzz/*.o

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The neural engine's elementwise kernels (activations, optimizer steps, the
# recurrent gates) are worth vectorizing: -O3, sqrtf/expf without errno, and
# no floating-point traps (so a clamp is a min/max, not a branch).  Nothing in
# src/nn reads errno or the floating-point exception flags.
src/nn/%.o: src/nn/%.c
	$(CC) $(CFLAGS) -O3 -fno-math-errno -fno-trapping-math $(CPPFLAGS) -c -o $@ $<

# k-means' per-row loops (nearest centre, centre sums), the silhouette's
# sums of square roots and the moments' per-row update vectorize at -O3
# without errno (none of these files reads it).
src/algo/kmeans.o src/eval/metrics.o src/scale/moments.o: src/%.o: src/%.c
	$(CC) $(CFLAGS) -O3 -fno-math-errno $(CPPFLAGS) -c -o $@ $<

galaxy--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# This release's changes, then the re-runnable parts: a new function, table
# or view gets its grants, row-level security and comments as in a fresh install
$(UPGRADE): $(SRCDIR)/upgrade/$(UPGRADE_FROM)--$(EXTVERSION).sql $(UPGRADE_NEW_PARTS) $(RERUN_PARTS)
	cat $^ > $@

$(OBJS): $(wildcard $(SRCDIR)/src/*.h $(SRCDIR)/src/*/*.h) | objdirs

.PHONY: objdirs
objdirs:
	@mkdir -p $(sort $(dir $(OBJS)))

.PHONY: fuzz
fuzz:
	$(MAKE) -C test/fuzz PG_CONFIG=$(PG_CONFIG)

# The int8 kernels of compressed models (int8 products summed in int32)
# vectorize at -O3.
src/algo/quant.o: src/algo/quant.c
	$(CC) $(CFLAGS) -O3 $(CPPFLAGS) -c -o $@ $<
