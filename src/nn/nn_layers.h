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

/* The ops of a stored layer kind, NULL if unknown. */
extern const NnLayerOps *nn_layer_ops(NnLayerKind kind);

#endif							/* GALAXY_NN_LAYERS_H */
