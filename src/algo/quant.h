/*
 * quant.h — int8 weight matrices and pruned sparse weights for compressed
 * models (quant.c): symmetric
 * post-training quantisation per output channel (one float scale per row),
 * their storage in a model value, and the int8 kernels predict runs on.
 *
 * A matrix of rows x cols weights W (row r an output channel: a class's
 * coefficients, a dense layer's unit) is kept as q[r][c] in [-127, 127]
 * with W[r][c] ~ q[r][c] * scale[r], scale[r] = max |W[r][.]| / 127.  An
 * input row x is quantised on the fly the same way (one scale per row), and
 * W x is the int8 dot products accumulated in int32 (in blocks that cannot
 * overflow, summed in int64), times the two scales: the weights are never
 * made float again.  Kernels are plain loops the compiler vectorises, with
 * no palloc or ereport (buffers are the caller's).
 */
#ifndef GALAXY_QUANT_H
#define GALAXY_QUANT_H

#include "model/modelio.h"

typedef struct QuantMatrix
{
	int			rows;
	int			cols;
	int8	   *q;				/* rows x cols, row-major */
	float	   *scale;			/* rows: W[r][c] ~ q[r][c] * scale[r] */
} QuantMatrix;

/* Quantise rows x cols weights (float64 or float32, row-major). */
extern QuantMatrix *quant_from_f64(const double *w, int rows, int cols);
extern QuantMatrix *quant_from_f32(const float *w, int rows, int cols);

/* One weight, dequantised (for describe and feature importance, not predict). */
static inline double
quant_value(const QuantMatrix *m, int r, int c)
{
	return (double) m->q[(Size) r * m->cols + c] * (double) m->scale[r];
}

/* Store / read (read validates: scales finite and >= 0, values in [-127, 127]). */
extern void quant_write(const QuantMatrix *m, ModelWriter *w);
extern QuantMatrix *quant_read(ModelReader *r, int rows, int cols, const char *what);

/* Bytes the quantised weights take in a model value. */
extern Size quant_stored_bytes(int rows, int cols);

/*
 * Quantise one input row of n values (float64 or float32) into qx; returns
 * its scale (0 for a row of zeros).
 */
extern float quant_input_f64(const double *x, int n, int8 *qx);
extern float quant_input_f32(const float *x, int n, int8 *qx);

/*
 * out[r] = (W x)[r] for every output channel r of m, from an input row
 * quantised by quant_input_*: int8 products, int32 accumulation.
 */
extern void quant_gemv(const QuantMatrix *m, const int8 *qx, float x_scale, double *out);
/* The same into float32 outputs (the neural engine's). */
extern void quant_gemv_f32(const QuantMatrix *m, const int8 *qx, float x_scale, float *out);

/* Input rows quant_gemm_f32 multiplies at once (the weights are read once for them). */
#define QUANT_ROWS 4

/*
 * quant_gemv_f32 for n <= QUANT_ROWS rows: qx holds n quantised rows of
 * m->cols values, x_scale their scales; out gets n rows of m->rows outputs.
 */
extern void quant_gemm_f32(const QuantMatrix *m, const int8 *qx, const float *x_scale, int n, float *out);

/*
 * Magnitude pruning (galaxy.compress 'prune'): the weights are kept dense in
 * memory, the smallest of them zero, and stored sparse — the positions and
 * values of the others only.
 */

/* Zero the smallest round(sparsity * n) weights by magnitude; returns how many are zero now. */
extern Size prune_magnitude_f64(double *w, Size n, double sparsity);
extern Size prune_magnitude_f32(float *w, Size n, double sparsity);

/*
 * Store n weights as a bitmap of the non-zero ones and their values; read
 * them back (validated) into n zeroed weights.
 */
extern void sparse_write_f64(const double *w, Size n, ModelWriter *mw);
extern void sparse_read_f64(ModelReader *r, double *w, Size n, const char *what);
extern void sparse_write_f32(const float *w, Size n, ModelWriter *mw);
extern void sparse_read_f32(ModelReader *r, float *w, Size n, const char *what);

/* Bytes sparse_write_* takes at least for n weights (checked before allocating them). */
#define SPARSE_MIN_BYTES(n) (12 + ((uint64) (n) + 7) / 8)

#endif							/* GALAXY_QUANT_H */
