/*
 * nn_layers.h — the layer kinds' forward/backward tables (nn_layers.c).
 */
#ifndef GALAXY_NN_LAYERS_H
#define GALAXY_NN_LAYERS_H

#include "nn/nn.h"

extern const NnLayerOps nn_dense_ops;
extern const NnLayerOps nn_activation_ops;
extern const NnLayerOps nn_dropout_ops;
extern const NnLayerOps nn_batchnorm_ops;
extern const NnLayerOps nn_conv2d_ops;
extern const NnLayerOps nn_maxpool2d_ops;
extern const NnLayerOps nn_avgpool2d_ops;
extern const NnLayerOps nn_global_avgpool_ops;
extern const NnLayerOps nn_flatten_ops;
extern const NnLayerOps nn_lstm_ops;
extern const NnLayerOps nn_gru_ops;
/* the sequence and attention layers (nn_transformer.c) */
extern const NnLayerOps nn_embedding_ops;
extern const NnLayerOps nn_positional_ops;
extern const NnLayerOps nn_layernorm_ops;
extern const NnLayerOps nn_attention_ops;
extern const NnLayerOps nn_residual_ops;
extern const NnLayerOps nn_dense_steps_ops;
extern const NnLayerOps nn_seq_meanpool_ops;

/* A dense layer's passes over 'rows' rows of k inputs and o outputs (dense, dense_steps). */
extern void nn_dense_rows_forward(const NnLayer *l, const float *in, float *out, int64 rows, int k, int o);
extern void nn_dense_rows_backward(NnLayer *l, const float *in, const float *dout, float *din,
								   int64 rows, int k, int o);

/* The ops of a stored layer kind, NULL if unknown. */
extern const NnLayerOps *nn_layer_ops(NnLayerKind kind);

#endif							/* GALAXY_NN_LAYERS_H */
