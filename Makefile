# galaxy — PGXS build
EXTENSION  = galaxy
EXTVERSION = 0.1.0

MODULE_big = galaxy
# srcdir is set by PGXS; VPATH (out-of-tree) builds work: make -f SRC/Makefile VPATH=SRC
SRCDIR    := $(or $(VPATH),.)
SRCS       = $(sort $(patsubst $(SRCDIR)/%,%,$(wildcard $(SRCDIR)/src/*.c $(SRCDIR)/src/*/*.c)))
OBJS       = $(SRCS:.c=.o)

SQL_PARTS  = $(sort $(wildcard $(SRCDIR)/src/sql/*.sql))
DATA_built = galaxy--$(EXTVERSION).sql

REGRESS      = $(basename $(notdir $(sort $(wildcard $(SRCDIR)/sql/*.sql))))
REGRESS_OPTS = --inputdir=$(SRCDIR) --load-extension=galaxy

PG_CPPFLAGS = -I$(SRCDIR)/src -I/usr/include/x86_64-linux-gnu/openblas-pthread
# GALAXY_DEV=1 drops -Werror while several people edit the tree; CI never sets it
WERROR     := $(if $(GALAXY_DEV),,-Werror)
PG_CFLAGS   = -std=gnu11 -Wall -Wextra $(WERROR) -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare -Wno-cast-function-type
SHLIB_LINK  = -lopenblas -llz4 -lm -lpthread -Wl,-z,now

EXTRA_CLEAN = galaxy--$(EXTVERSION).sql test/fuzz/fuzz_model test/fuzz/*.o

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The neural engine's elementwise kernels (activations, optimizer steps) are
# worth vectorizing: -O3, and sqrtf/expf without errno so the loops can be.
# Nothing in src/nn reads errno.
src/nn/%.o: src/nn/%.c
	$(CC) $(CFLAGS) -O3 -fno-math-errno $(CPPFLAGS) -c -o $@ $<

# k-means' per-row loops (nearest centre, centre sums) and the silhouette's
# sums of square roots vectorize at -O3 without errno (neither file reads it).
src/algo/kmeans.o src/eval/metrics.o: src/%.o: src/%.c
	$(CC) $(CFLAGS) -O3 -fno-math-errno $(CPPFLAGS) -c -o $@ $<

galaxy--$(EXTVERSION).sql: $(SQL_PARTS)
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
