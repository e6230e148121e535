"""The neural-network peers of galaxy's benchmark: PyTorch (CPU) and scikit-learn MLPs trained with the same
architecture and optimiser settings as galaxy's `neural_network` algorithm, and the memory budget of issue #12.

Used by bench/bench.py (the speed rows `mlp`, `mlp_fmnist` and `cnn_fmnist`) and bench/accuracy (5-fold CV).
PyTorch is imported lazily: the rest of the benchmark runs without it.

Equivalences (galaxy's hyperparameter → peer):
- hidden_layers [h1, h2, …] → Linear(p, h1), act, Linear(h1, h2), act, …, Linear(h_last, outputs); classification
  has one output per class with cross-entropy (binary = 2 outputs), regression one output with MSE;
- optimizer adam, learning_rate, weight_decay (L2 added to the gradient of the weights, not the biases) →
  torch.optim.Adam(lr) with weight_decay on the weights' parameter group; scikit-learn adds alpha · W / batch_size
  to the gradient of the weights, so alpha = weight_decay × batch_size;
- regression: galaxy trains on the standardised target (and un-scales its predictions); so do the peers;
- batch_size, epochs, shuffled every epoch, the last batch smaller; no early stopping and no validation split
  (galaxy: early_stopping_rounds 0, validation_fraction 0; scikit-learn: tol 0 and n_iter_no_change = epochs);
- galaxy standard-scales every feature with the training rows' mean and std: the peers use StandardScaler fitted
  on the training rows.

galaxy's `cnn` (issue #13) → the same blocks in PyTorch: for each conv_filters entry f, Conv2d(c, f, kernel_size,
stride 1, padding kernel_size // 2) → activation → MaxPool2d(pool_size) (while the image is at least pool_size on
both sides), then Flatten (channel-major, as galaxy's flatten), the dense_units layers and the output Linear.  The
rows are reshaped to [channels, height, width] after the per-pixel scaling.
"""

import time

import numpy as np

MB = 1048576


def galaxy_hyperparams(hidden, epochs, batch_size, learning_rate=0.001, weight_decay=0.0001, activation="relu"):
    """galaxy's neural_network hyperparameters for a fixed number of epochs without early stopping."""
    return {"hidden_layers": list(hidden), "activation": activation, "optimizer": "adam",
            "learning_rate": learning_rate, "batch_size": batch_size, "epochs": epochs,
            "early_stopping_rounds": 0, "validation_fraction": 0, "weight_decay": weight_decay}


def cnn_hyperparams(input_shape, filters, kernel, pool, dense, epochs, batch_size, learning_rate=0.001,
                    weight_decay=0.0001, activation="relu"):
    """galaxy's cnn hyperparameters for a fixed number of epochs without early stopping."""
    return {"input_shape": list(input_shape), "conv_filters": list(filters), "kernel_size": kernel,
            "pool_size": pool, "dense_units": list(dense), "activation": activation, "optimizer": "adam",
            "learning_rate": learning_rate, "batch_size": batch_size, "epochs": epochs,
            "early_stopping_rounds": 0, "validation_fraction": 0, "weight_decay": weight_decay}


def cnn_layers(input_shape, filters, kernel, pool, dense, n_out):
    """The cnn's layers as galaxy builds them: [("conv", c_in, f, k), ("pool", p), ("flatten", n),
    ("dense", n_in, units), …] and the shape after each block."""
    c, h, w = input_shape
    layers = []
    for f in filters:
        layers.append(("conv", c, f, kernel))
        h, w, c = h + 2 * (kernel // 2) - kernel + 1, w + 2 * (kernel // 2) - kernel + 1, f
        if pool > 1 and h >= pool and w >= pool:
            layers.append(("pool", pool))
            h, w = (h - pool) // pool + 1, (w - pool) // pool + 1
    prev = c * h * w
    layers.append(("flatten", prev))
    for u in list(dense) + [n_out]:
        layers.append(("dense", prev, u))
        prev = u
    return layers


def cnn_parameters(input_shape, filters, kernel, pool, dense, n_out):
    """Weights and biases of the cnn (conv: (c·k·k + 1)·f; dense: (n_in + 1)·units)."""
    n = 0
    for layer in cnn_layers(input_shape, filters, kernel, pool, dense, n_out):
        if layer[0] == "conv":
            n += (layer[1] * layer[3] * layer[3] + 1) * layer[2]
        elif layer[0] == "dense":
            n += (layer[1] + 1) * layer[2]
    return n


def cnn_architecture(input_shape, filters, kernel, pool, dense, n_out):
    """A short text of the cnn's layers, e.g. 1x28x28-conv32-pool-conv64-pool-128-10."""
    parts = ["x".join(str(d) for d in input_shape)]
    for layer in cnn_layers(input_shape, filters, kernel, pool, dense, n_out):
        if layer[0] == "conv":
            parts.append(f"conv{layer[2]}" + ("" if kernel == 3 else f"k{kernel}"))
        elif layer[0] == "pool":
            parts.append("pool")
        elif layer[0] == "dense":
            parts.append(str(layer[2]))
    return parts


def n_parameters(n_in, hidden, n_out):
    """Weights and biases of a dense network n_in → hidden… → n_out."""
    sizes = [n_in] + list(hidden) + [n_out]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def memory_budget(rows, features, params):
    """Issue #12's training-memory budget: 1.5 × the float32 input matrix + 4 × the parameters (float32) + 64 MB."""
    return 1.5 * rows * features * 4 + 4 * params * 4 + 64 * MB


def scale(X_train, *others):
    """StandardScaler fitted on the training rows, applied to every array; float32 C-contiguous results."""
    from sklearn.preprocessing import StandardScaler
    sc = StandardScaler().fit(X_train)
    return [np.ascontiguousarray(sc.transform(a), dtype=np.float32) for a in (X_train,) + others]


# --- PyTorch -------------------------------------------------------------------------------------------

def torch_version():
    """PyTorch's version, or None when it is not installed."""
    try:
        import torch
        return torch.__version__
    except ImportError:
        return None


def build_torch(n_in, hidden, n_out, activation="relu"):
    """nn.Sequential(Linear, act, …, Linear) in float32, default PyTorch initialisation."""
    import torch.nn as nn
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}
    layers, prev = [], n_in
    for h in hidden:
        layers += [nn.Linear(prev, h), acts[activation]()]
        prev = h
    layers.append(nn.Linear(prev, n_out))
    return nn.Sequential(*layers)


def build_torch_cnn(input_shape, filters, kernel, pool, dense, n_out, activation="relu"):
    """nn.Sequential of galaxy's cnn (see cnn_layers) in float32, default PyTorch initialisation; takes
    batches shaped [n, channels, height, width]."""
    import torch.nn as nn
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}
    layers = []
    spec = cnn_layers(input_shape, filters, kernel, pool, dense, n_out)
    for i, layer in enumerate(spec):
        if layer[0] == "conv":
            layers += [nn.Conv2d(layer[1], layer[2], layer[3], stride=1, padding=layer[3] // 2), acts[activation]()]
        elif layer[0] == "pool":
            layers.append(nn.MaxPool2d(layer[1]))
        elif layer[0] == "flatten":
            layers.append(nn.Flatten())
        else:
            layers.append(nn.Linear(layer[1], layer[2]))
            if i < len(spec) - 1:
                layers.append(acts[activation]())
    return nn.Sequential(*layers)


def torch_fit(X, y, hidden, n_out, epochs, batch_size, learning_rate=0.001, weight_decay=0.0001, seed=0,
              threads=None, activation="relu", build=None):
    """Train a PyTorch MLP on float32 X (already scaled) with Adam, without a DataLoader: every epoch draws a
    random permutation and steps over its index batches.  n_out > 1: labels 0..n_out-1 and cross-entropy;
    n_out == 1: regression with MSE.  BUILD (optional) makes another network instead of the MLP (called after
    the seed is set; X then has the shape that network takes, e.g. [n, C, H, W] for build_torch_cnn).
    Returns (model, seconds of each epoch)."""
    import torch
    import torch.nn as nn
    if threads:
        torch.set_num_threads(int(threads))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = build() if build is not None else build_torch(X.shape[1], hidden, n_out, activation)
    # L2 on the weights only, as galaxy and scikit-learn do (PyTorch would otherwise decay the biases too)
    weights = [p for p in model.parameters() if p.dim() > 1]
    biases = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.Adam([{"params": weights, "weight_decay": weight_decay},
                            {"params": biases, "weight_decay": 0.0}], lr=learning_rate)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    if n_out > 1:
        Yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        loss_fn = nn.CrossEntropyLoss()
    else:
        Yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32).reshape(-1, 1))
        loss_fn = nn.MSELoss()
    n = Xt.shape[0]
    model.train()
    seconds = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            xb, yb = Xt.index_select(0, idx), Yt.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - t0)
    return model, seconds


def torch_proba(model, X, chunk=65536):
    """Softmax probabilities (rows x classes) of a classification MLP on float32 X."""
    import torch
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), chunk):
            z = model(torch.from_numpy(np.ascontiguousarray(X[start:start + chunk], dtype=np.float32)))
            out.append(torch.softmax(z, 1).numpy())
    return np.concatenate(out)


def torch_predict(model, X, chunk=65536):
    """Class index (classification) or value (regression) of every row of float32 X."""
    import torch
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), chunk):
            z = model(torch.from_numpy(np.ascontiguousarray(X[start:start + chunk], dtype=np.float32)))
            out.append((z.argmax(1) if z.shape[1] > 1 else z[:, 0]).numpy())
    return np.concatenate(out) if out else np.empty(0)


# --- scikit-learn --------------------------------------------------------------------------------------

def sklearn_mlp(classification, hidden, epochs, batch_size, learning_rate=0.001, weight_decay=0.0001, seed=0,
                activation="relu"):
    """MLPClassifier / MLPRegressor doing exactly EPOCHS epochs of Adam (no early stopping), with the same L2."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    act = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic"}[activation]
    cls = MLPClassifier if classification else MLPRegressor
    return cls(hidden_layer_sizes=tuple(hidden), activation=act, solver="adam", alpha=weight_decay * batch_size,
               batch_size=batch_size, learning_rate_init=learning_rate, max_iter=epochs, shuffle=True, tol=0.0,
               n_iter_no_change=epochs + 1, early_stopping=False, random_state=seed)


def sklearn_fit(X, y, classification, hidden, epochs, batch_size, **kw):
    """Fit a scikit-learn MLP on X (already scaled); returns (model, fit seconds, epochs run)."""
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    m = sklearn_mlp(classification, hidden, epochs, batch_size, **kw)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(X, y)
    return m, time.perf_counter() - t0, int(m.n_iter_)


class TorchMLP:
    """A scikit-learn-style PyTorch peer for bench/accuracy: StandardScaler on the training rows, then
    torch_fit; classification labels are 0..k-1 (LabelEncoder'd by the caller)."""

    def __init__(self, classification, hidden, epochs, batch_size, learning_rate=0.001, weight_decay=0.0001,
                 seed=0, threads=1):
        self.classification, self.hidden, self.epochs, self.batch_size = classification, hidden, epochs, batch_size
        self.learning_rate, self.weight_decay, self.seed, self.threads = learning_rate, weight_decay, seed, threads

    def fit(self, X, y):
        from sklearn.preprocessing import StandardScaler
        self.scaler = StandardScaler().fit(X)
        if self.classification:
            n_out = max(int(np.max(y)) + 1, 2)
            self.y_mean, self.y_scale = 0.0, 1.0
        else:
            n_out = 1
            y = np.asarray(y, dtype=np.float64)
            self.y_mean, self.y_scale = float(y.mean()), float(y.std()) or 1.0
            y = (y - self.y_mean) / self.y_scale
        self.model, self.epoch_seconds = torch_fit(
            np.asarray(self.scaler.transform(X), dtype=np.float32), y, self.hidden, n_out, self.epochs,
            self.batch_size, self.learning_rate, self.weight_decay, self.seed, self.threads)
        return self

    def predict(self, X):
        p = torch_predict(self.model, np.asarray(self.scaler.transform(X), dtype=np.float32))
        return p if self.classification else p.astype(np.float64) * self.y_scale + self.y_mean


# --- sequences (issue #13's sequence task: lstm and transformer forecasting) ------------------------------
#
# galaxy's lstm (src/algo/neural_network.c, lstm_build) → one torch.nn.LSTM(f, h, batch_first=True) per entry of
# lstm_units (every one but the last passes its whole sequence on), the last step's hidden state, the
# dense_units layers, then Linear(h, outputs).  galaxy's LSTM has one bias per gate (b, 4h values); PyTorch has two
# (b_ih + b_hh, which only ever appear summed): the peer keeps b_hh at 0 and frozen, so both train the same
# function of the same 4h·(f + h + 1) weights per layer.
#
# galaxy's transformer over numeric sequences (transformer_build) → Linear(f, d_model) at every step, + the
# sinusoidal position codes PE[t][2i] = sin(t / 10000^(2i/d)), PE[t][2i+1] = cos(the same), `layers` ×
# TransformerEncoderLayer(d_model, heads, ff_units, dropout 0, relu, batch_first, norm_first = pre-norm:
# x + attention(layer_norm(x)), then x + W2·relu(W1·layer_norm(x))), a final LayerNorm, the mean over the steps,
# the dense_units layers and Linear(d_model, outputs).  Both use layer-norm epsilon 1e-5 and scale the attention
# scores by 1/sqrt(d_model / heads).

def lstm_forecast_hyperparams(window, features, units, epochs, batch_size, learning_rate, weight_decay=0.0):
    """galaxy's lstm hyperparameters for a fixed number of epochs without early stopping or validation split."""
    return {"input_shape": [window, features], "lstm_units": list(units), "dense_units": [], "cell": "lstm",
            "optimizer": "adam", "learning_rate": learning_rate, "batch_size": batch_size, "epochs": epochs,
            "early_stopping_rounds": 0, "validation_fraction": 0, "weight_decay": weight_decay}


def transformer_forecast_hyperparams(window, features, d_model, heads, layers, ff_units, epochs, batch_size,
                                     learning_rate, weight_decay=0.0, activation="relu"):
    """galaxy's transformer hyperparameters (numeric sequences) for a fixed number of epochs, no early stopping."""
    return {"input_shape": [window, features], "vocab_size": 0, "d_model": d_model, "heads": heads,
            "layers": layers, "ff_units": ff_units, "positional_encoding": "sinusoidal", "dense_units": [],
            "activation": activation, "dropout": 0, "optimizer": "adam", "learning_rate": learning_rate,
            "batch_size": batch_size, "epochs": epochs, "early_stopping_rounds": 0, "validation_fraction": 0,
            "weight_decay": weight_decay}


def lstm_parameters(features, units, n_out=1):
    """Weights and biases of galaxy's lstm: 4h·(f + h + 1) per layer, then the output layer."""
    n, f = 0, features
    for h in units:
        n += 4 * h * (f + h + 1)
        f = h
    return n + (f + 1) * n_out


def transformer_parameters(features, d_model, layers, ff_units, n_out=1):
    """Weights and biases of galaxy's transformer over numeric sequences: the input projection, per block two layer
    norms, attention (Q, K, V and output projections with biases) and the feed-forward pair, the final norm and
    the output layer."""
    d = d_model
    block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * ff_units + ff_units) + (ff_units * d + d)
    return (features + 1) * d + layers * block + 2 * d + (d + 1) * n_out


def positional_codes(steps, d_model):
    """galaxy's sinusoidal position codes as a float32 [steps, d_model] array."""
    t = np.arange(steps, dtype=np.float64)[:, None]
    j = np.arange(d_model)
    angle = t / np.power(10000.0, (j - j % 2) / d_model)[None, :]
    return np.where(j % 2 == 0, np.sin(angle), np.cos(angle)).astype(np.float32)


def build_torch_lstm(features, units, n_out=1):
    """galaxy's lstm in PyTorch (see above); takes batches shaped [n, steps, features]."""
    import torch
    import torch.nn as nn

    class LstmNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnns = nn.ModuleList()
            f = features
            for h in units:
                rnn = nn.LSTM(f, h, batch_first=True)
                with torch.no_grad():
                    rnn.bias_hh_l0.zero_()
                rnn.bias_hh_l0.requires_grad_(False)  # galaxy's single bias per gate is bias_ih_l0
                self.rnns.append(rnn)
                f = h
            self.out = nn.Linear(f, n_out)

        def forward(self, x):
            for rnn in self.rnns:
                x, _ = rnn(x)
            return self.out(x[:, -1, :])

    return LstmNet()


def build_torch_transformer(steps, features, d_model, heads, layers, ff_units, n_out=1, activation="relu"):
    """galaxy's transformer over numeric sequences in PyTorch (see above); takes batches [n, steps, features]."""
    import torch
    import torch.nn as nn

    class TransformerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(features, d_model)
            self.register_buffer("pe", torch.from_numpy(positional_codes(steps, d_model)))
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(d_model, heads, ff_units, dropout=0.0, activation=activation,
                                           batch_first=True, norm_first=True, layer_norm_eps=1e-5)
                for _ in range(layers))
            self.norm = nn.LayerNorm(d_model, eps=1e-5)
            self.out = nn.Linear(d_model, n_out)

        def forward(self, x):
            x = self.proj(x) + self.pe
            for block in self.blocks:
                x = block(x)
            return self.out(self.norm(x).mean(dim=1))

    return TransformerNet()


def trainable_parameters(model):
    """Values PyTorch's optimiser updates (frozen tensors left out)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


# --- text as token ids (issue #13's text rows) ------------------------------------------------------------------
# galaxy's "text": "sequence" mode: the lexemes of each text (galaxy.tokenize), the first max_length of them; the
# vocabulary is every term of the training texts' kept lexemes, cut to the max_features most frequent (occurrences;
# ties to the smaller term by bytes), then sorted by bytes; id 2 + i is term i, 1 a lexeme out of the vocabulary,
# 0 padding, in front (the ids right-aligned).

def sequence_token_ids(train_tokens, test_tokens, max_length, max_features):
    """(X_train, X_test, n_tokens): int64 [n, max_length] token id arrays as galaxy builds them."""
    from collections import Counter
    tf = Counter()
    for toks in train_tokens:
        tf.update(toks[:max_length])
    terms = list(tf)
    if len(terms) > max_features:
        terms = sorted(terms, key=lambda t: (-tf[t], t.encode()))[:max_features]
    terms.sort(key=lambda t: t.encode())
    index = {t: i + 2 for i, t in enumerate(terms)}

    def encode(rows):
        X = np.zeros((len(rows), max_length), dtype=np.int64)
        for r, toks in enumerate(rows):
            ids = [index.get(t, 1) for t in toks[:max_length]]
            if ids:
                X[r, max_length - len(ids):] = ids
        return X
    return encode(train_tokens), encode(test_tokens), len(terms) + 2


def lstm_token_parameters(n_tokens, dim, units, n_out):
    """galaxy's lstm over token ids: the embedding table (no bias), the LSTM layers, the output layer."""
    return n_tokens * dim + lstm_parameters(dim, units, n_out)


def transformer_token_parameters(n_tokens, d_model, layers, ff_units, n_out):
    """galaxy's transformer over token ids: the embedding instead of the input projection."""
    return transformer_parameters(1, d_model, layers, ff_units, n_out) - 2 * d_model + n_tokens * d_model


def build_torch_lstm_tokens(n_tokens, dim, units, n_out):
    """nn.Embedding then galaxy's lstm (build_torch_lstm); takes [n, steps] ids (as float32, cast here)."""
    import torch.nn as nn
    lstm = build_torch_lstm(dim, units, n_out)

    class LstmTokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(n_tokens, dim)
            self.lstm = lstm

        def forward(self, x):
            return self.lstm(self.emb(x.long()))

    return LstmTokens()


def build_torch_transformer_tokens(n_tokens, steps, d_model, heads, layers, ff_units, n_out, activation="relu"):
    """galaxy's transformer over token ids: nn.Embedding + sinusoidal codes, then the blocks of
    build_torch_transformer; takes [n, steps] ids (as float32, cast here)."""
    import torch.nn as nn
    body = build_torch_transformer(steps, 1, d_model, heads, layers, ff_units, n_out, activation)
    del body.proj

    class TransformerTokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(n_tokens, d_model)
            self.body = body

        def forward(self, x):
            x = self.emb(x.long()) + self.body.pe
            for block in self.body.blocks:
                x = block(x)
            return self.body.out(self.body.norm(x).mean(dim=1))

    return TransformerTokens()
