/*
 * model.h — the galaxy.model value: an in-memory model and its varlena form.
 *
 * Varlena layout (all little-endian):
 *   varlena header
 *   GalaxyModelHeader (fixed 32 bytes, below)
 *   payload: raw_size bytes, stored as is, or when flags & MODEL_FLAG_LZ4 as
 *     LZ4 blocks of at most MODEL_LZ4_BLOCK raw bytes, each a little-endian
 *     u32 compressed length then the block; a block may refer back up to
 *     MODEL_LZ4_DICT bytes into the raw bytes before it (LZ4 streaming)
 *     "PREP" preprocessor (input schema + transforms)
 *     "LABL" label type name + n_classes label strings
 *     "HPAR" resolved hyperparameters
 *     "ALGO" the algorithm's state
 * checksum = CRC-32C of the uncompressed payload.
 */
#ifndef GALAXY_MODEL_H
#define GALAXY_MODEL_H

#include "fmgr.h"

#include "algo/algo.h"
#include "data/dataset.h"

#define MODEL_MAGIC			0x4D584C47	/* "GLXM" little-endian */
#define MODEL_FORMAT_VERSION	1
/*
 * Format 2: the algorithm's state may hold int8 weights or sparse storage
 * (galaxy.compress, algo/quant.h).  A model is written in the oldest format
 * that holds it, so an uncompressed model stays readable by a galaxy that
 * reads format 1 only, and such a galaxy refuses a compressed one clearly.
 */
#define MODEL_FORMAT_QUANT		2
#define MODEL_FLAG_LZ4		0x01
#define MODEL_KNOWN_FLAGS	(MODEL_FLAG_LZ4)
#define MODEL_COMPRESS_THRESHOLD 4096	/* payloads above this are LZ4-compressed */
#define MODEL_LZ4_BLOCK		((Size) 1 << 20)	/* raw bytes per LZ4 block */
#define MODEL_LZ4_DICT		(64 * 1024)	/* LZ4's window */
#define MODEL_MAX_PAYLOAD	((Size) 1 << 29)	/* 512 MB */
#define MODEL_MAX_FEATURES	(1 << 21)	/* 2,097,152: a 2^20 hashing trick and more */
#define MODEL_MAX_CLASSES	100000

typedef struct GalaxyModelHeader
{
	uint32		magic;
	uint16		format_version;
	uint16		algorithm;		/* AlgorithmDef.id */
	uint8		task;			/* GalaxyTask */
	uint8		flags;
	uint16		reserved;		/* zero */
	uint32		n_features;		/* features the algorithm sees */
	uint32		n_inputs;		/* input columns */
	uint32		n_classes;
	uint32		raw_size;		/* uncompressed payload size */
	uint32		checksum;		/* CRC-32C of the uncompressed payload */
} GalaxyModelHeader;

#define MODEL_HEADER_SIZE 32

/* An in-memory, ready-to-predict model. */
typedef struct GalaxyModel
{
	const AlgorithmDef *algo;
	GalaxyTask	task;
	int			n_features;
	int			n_classes;
	char	   *label_typname;	/* type of the target column, or NULL */
	char	  **labels;			/* n_classes label texts */
	Preprocessor *prep;
	HyperParams hp;
	void	   *state;			/* the algorithm's state */
	Size		stored_size;	/* size of the varlena value */
	bool		compressed;
	uint16		format;			/* format the state needs: 0 or MODEL_FORMAT_VERSION, or MODEL_FORMAT_QUANT */
} GalaxyModel;

/* Serialise a model into a new varlena (galaxy.model datum). */
extern struct varlena *model_serialize(const GalaxyModel *m);

/*
 * Parse and fully validate a galaxy.model value (bytes after the varlena
 * header).  ERROR (22P03 / XX001) on anything malformed.  With
 * verify_checksum false the checksum is skipped (fuzzing reaches deeper).
 */
extern GalaxyModel *model_parse(const char *data, Size len, bool verify_checksum);

/* Parse from a (possibly toasted) datum. */
extern GalaxyModel *model_from_datum(Datum d);

/* Read only the fixed header, validated. */
extern void model_read_header(const char *data, Size len, GalaxyModelHeader *h);

/* Predict n preprocessed rows / probabilities (thin wrappers over the algorithm). */
extern void model_predict_features(const GalaxyModel *m, const double *X, int64 n, double *out);

/* jsonb summary for galaxy.describe(). */
extern Jsonb *model_describe(const GalaxyModel *m, const GalaxyModelHeader *h);

#define DatumGetGalaxyModelP(X)	((struct varlena *) PG_DETOAST_DATUM(X))

#endif							/* GALAXY_MODEL_H */
