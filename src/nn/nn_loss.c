/*
 * nn_loss.c — the losses: softmax cross-entropy (fused, from logits),
 * sigmoid binary cross-entropy (from the logit), mean squared error and
 * Huber, each with its gradient with respect to the network's output.
 */
#include "postgres.h"

#include <math.h>

#include "algo/linalg.h"
#include "nn/nn.h"

const char *
nn_loss_name(NnLoss loss)
{
	switch (loss)
	{
		case NN_LOSS_SOFTMAX_CE:
			return "cross_entropy";
		case NN_LOSS_SIGMOID_BCE:
			return "binary_cross_entropy";
		case NN_LOSS_MSE:
			return "mse";
		case NN_LOSS_HUBER:
			return "huber";
	}
	return "unknown";
}

/*
 * Weighted mean loss over the batch; see nn.h.  Softmax cross-entropy is
 * computed from the logits with the log-sum-exp shift, so no probability is
 * ever 0 or 1 in float and the gradient is softmax - onehot (times the
 * sample's weight over the batch's weight).
 */
double
nn_loss(NnLoss loss, const float *out, const float *y, int batch, int k,
		const float *class_weight, double huber_delta, float *dout, double *wsum_out)
{
	double		total = 0.0;
	double		wsum = 0.0;

	/* weights first: the gradient is divided by their sum */
	if (class_weight && (loss == NN_LOSS_SOFTMAX_CE || loss == NN_LOSS_SIGMOID_BCE))
	{
		for (int i = 0; i < batch; i++)
			wsum += class_weight[(int) y[i]];
	}
	else
		wsum = batch;
	if (!(wsum > 0.0))
		wsum = 1.0;

	switch (loss)
	{
		case NN_LOSS_SOFTMAX_CE:
			for (int i = 0; i < batch; i++)
			{
				const float *z = out + (Size) i * k;
				int			c = (int) y[i];
				double		w = class_weight ? class_weight[c] : 1.0;
				float		mx = z[0];
				double		sum = 0.0;
				double		lse;

				for (int j = 1; j < k; j++)
					if (z[j] > mx)
						mx = z[j];
				for (int j = 0; j < k; j++)
					sum += exp((double) z[j] - mx);
				lse = mx + log(sum);
				total += w * (lse - z[c]);
				if (dout)
				{
					float	   *g = dout + (Size) i * k;
					double		scale = w / wsum;

					for (int j = 0; j < k; j++)
						g[j] = (float) (scale * exp((double) z[j] - lse));
					g[c] -= (float) scale;
				}
			}
			break;
		case NN_LOSS_SIGMOID_BCE:
			for (int i = 0; i < batch; i++)
			{
				double		z = out[i];
				double		t = y[i];
				double		w = class_weight ? class_weight[(int) y[i]] : 1.0;

				/* log(1 + e^z) - t z, written to never overflow */
				total += w * ((z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - t * z);
				if (dout)
				{
					dout[i] = (float) (w * (logistic(z) - t) / wsum);
				}
			}
			break;
		case NN_LOSS_MSE:
			for (int i = 0; i < batch; i++)
				for (int j = 0; j < k; j++)
				{
					double		e = (double) out[(Size) i * k + j] - y[(Size) i * k + j];

					total += e * e / k;
					if (dout)
						dout[(Size) i * k + j] = (float) (2.0 * e / (wsum * k));
				}
			break;
		case NN_LOSS_HUBER:
			for (int i = 0; i < batch; i++)
				for (int j = 0; j < k; j++)
				{
					double		e = (double) out[(Size) i * k + j] - y[(Size) i * k + j];
					double		a = fabs(e);

					if (a <= huber_delta)
					{
						total += 0.5 * e * e / k;
						if (dout)
							dout[(Size) i * k + j] = (float) (e / (wsum * k));
					}
					else
					{
						total += huber_delta * (a - 0.5 * huber_delta) / k;
						if (dout)
							dout[(Size) i * k + j] = (float) ((e > 0 ? huber_delta : -huber_delta) / (wsum * k));
					}
				}
			break;
	}
	if (wsum_out)
		*wsum_out = wsum;
	return total;
}
