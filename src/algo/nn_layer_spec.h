/*
 * nn_layer_spec.h — the `layers` hyperparameter of the neural algorithms: a
 * JSON list of layer specs ({"type": "conv2d", "filters": 32}, ...), its
 * encoding in a HyperParams integer list, the memory a network of those
 * layers needs, and the network itself.
 */
#ifndef GALAXY_NN_LAYER_SPEC_H
#define GALAXY_NN_LAYER_SPEC_H

#include "algo/algo.h"
#include "nn/nn.h"

/* Integers per encoded layer: kind, then up to four parameters. */
#define NN_SPEC_INTS 5

/* The codec of an HP_SPEC_LIST of layers. */
extern const HpCodec nn_layer_spec_codec;

/*
 * Bytes a network of these layers (n encoded integers) on input 'in', then
 * a dense output of n_out, needs to train with batch rows: 5 floats per
 * parameter, activations, gradients and scratch per row.  ERROR (22023)
 * when a layer does not fit the shape it gets, naming the layer.
 */
extern double nn_layer_spec_bytes(const int32 *spec, int n, NnShape in, int n_out, int batch);

/* Append the layers to net (after nn_init); a dense layer flattens what it gets. */
extern void nn_layer_spec_build(NnNet *net, const int32 *spec, int n, GalaxyRng *rng);

#endif							/* GALAXY_NN_LAYER_SPEC_H */
