"""Reference generator and critic networks.

The critics here never use BatchNormalization: the gradient penalty is
defined per example, and batch statistics would couple the examples
(Gulrajani et al. 2017, section 4). `began_critic` is the autoencoder
critic of BEGAN, whose score is a reconstruction error.

Conditional networks (`num_classes=K`) take a second input, int class ids of
shape `(batch,)`: generators are called as `g([z, y])` and critics as
`c([x, y])`. Generators embed y and concatenate it with z. Critics condition
by projection (Miyato & Koyama 2018) or by concatenating the one-hot label
to the input (Mirza & Osindero 2014), and can add heads: ACGAN's class
logits (`auxiliary_classifier=True`, Odena et al. 2017) and InfoGAN's code
predictions (`q_outputs=N`, Chen et al. 2016). A critic with heads returns
the list `[score, class_logits?, q?]` in that order.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from keras_wgangp._options import check_num_classes

__all__ = [
    "IMAGE_SIZES",
    "ReconstructionError",
    "began_critic",
    "dcgan_critic",
    "dcgan_generator",
    "mlp_critic",
    "mlp_generator",
    "resnet_critic",
    "resnet_generator",
]

IMAGE_SIZES = (8, 16, 28, 32, 64, 128)
NORMALIZATIONS = ("none", "layer")
CONDITIONINGS = ("projection", "concat", "none")


def _check_image_shape(image_shape, critic: bool = False) -> tuple[int, int, int]:
    # A critic also takes PacGAN's packs: m images joined along the channels.
    try:
        height, width, channels = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape!r}.") from None
    if height != width or height not in IMAGE_SIZES:
        raise ValueError(
            f"image_shape must be square with a side in {IMAGE_SIZES}, got {height}x{width}. "
            "Resize the data (e.g. load_tfds(..., image_size=32)) to a supported size."
        )
    if (channels < 1) if critic else (channels not in (1, 3)):
        kind = "at least 1 channel" if critic else "1 or 3 channels"
        raise ValueError(f"image_shape must have {kind}, got {channels}.")
    return height, width, channels


def _start_size(side: int) -> tuple[int, int]:
    """Returns (starting resolution, number of 2x upsamplings) to reach `side`."""
    start = 7 if side == 28 else 4
    return start, int(round(math.log2(side // start)))


def _normalization(kind: str, name: str):
    if kind not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {kind!r}.")
    # LayerNormalization over (H, W, C) is per example, so it keeps the
    # penalty's per-example meaning (Gulrajani et al. 2017, sec. 4).
    return layers.LayerNormalization(axis=[1, 2, 3], name=name) if kind == "layer" else None


# ------------------------------------------------------------- conditioning


def _label_input():
    return keras.Input((), dtype="int32", name="label")


def _embedding_dim(num_classes: int) -> int:
    # A learned code as wide as a one-hot, capped for many classes.
    return min(num_classes, 64)


def _generator_inputs(latent_dim: int, num_classes):
    """Returns (model inputs, the vector the network starts from)."""
    z = keras.Input((latent_dim,), name="z")
    num_classes = check_num_classes(num_classes)
    if num_classes is None:
        return z, z
    y = _label_input()
    embedded = layers.Embedding(num_classes, _embedding_dim(num_classes), name="label_embedding")(y)
    return [z, y], layers.Concatenate(name="z_and_label")([z, embedded])


def _critic_options(num_classes, conditioning, auxiliary_classifier, q_outputs) -> str:
    if conditioning is None:
        conditioning = "none" if auxiliary_classifier or num_classes is None else "projection"
    if conditioning not in CONDITIONINGS:
        raise ValueError(f"conditioning must be one of {CONDITIONINGS} or None, got {conditioning!r}.")
    if num_classes is None and (conditioning != "none" or auxiliary_classifier):
        raise ValueError(
            f"conditioning={conditioning!r} / auxiliary_classifier={auxiliary_classifier} need "
            "num_classes; pass num_classes=K for a class-conditional critic."
        )
    if q_outputs is not None and (
        isinstance(q_outputs, bool) or not isinstance(q_outputs, int) or q_outputs < 1
    ):
        raise ValueError(f"q_outputs must be a positive integer or None, got {q_outputs!r}.")
    return conditioning


def _critic_outputs(features, y, num_classes, conditioning, auxiliary_classifier, q_outputs, q_units):
    """The score (plus the projection term) and the optional heads, from the features φ(x)."""
    score = layers.Dense(1, dtype="float32", name="score")(features)
    if conditioning == "projection":
        # f(x, y) = ψ(φ(x)) + embed(y)·φ(x)  (Miyato & Koyama 2018, eq. 3)
        embedded = layers.Embedding(num_classes, features.shape[-1], name="projection_embedding")(y)
        projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
        score = layers.Add(dtype="float32", name="projected_score")([score, projection])
    outputs = [score]
    if auxiliary_classifier:
        outputs.append(layers.Dense(num_classes, dtype="float32", name="class_logits")(features))
    if q_outputs is not None:
        h = layers.Dense(q_units, name="q_hidden")(features)
        h = layers.LeakyReLU(0.2)(h)
        outputs.append(layers.Dense(q_outputs, dtype="float32", name="q")(h))
    return outputs[0] if len(outputs) == 1 else outputs


def _critic_inputs(x_in, num_classes):
    return x_in if num_classes is None else [x_in, _label_input()]


def mlp_generator(
    latent_dim: int = 2,
    output_dim: int = 2,
    units: int = 512,
    depth: int = 3,
    num_classes: int | None = None,
) -> keras.Model:
    """The toy-experiment generator: `depth` ReLU layers of `units`, linear output.

    Args:
        latent_dim: Size of the latent vector z (with InfoGAN codes: the
            noise size plus the codes' size).
        output_dim: Size of each generated example.
        units: Width of every hidden layer (512 in the paper).
        depth: Number of hidden layers (3 in the paper).
        num_classes: If set, a conditional generator called as `g([z, y])`
            with int labels y in [0, num_classes); y is embedded and
            concatenated with z.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` (and labels)
        to `(batch, output_dim)`.

    Examples:
        >>> g = mlp_generator(latent_dim=2, output_dim=2, units=32)
        >>> g.output_shape
        (None, 2)
        >>> mlp_generator(latent_dim=2, units=32, num_classes=8).input_shape
        [(None, 2), (None,)]
    """
    inputs, x = _generator_inputs(latent_dim, num_classes)
    for i in range(depth):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    x = layers.Dense(output_dim, dtype="float32", name="output")(x)
    return keras.Model(inputs, x, name="mlp_generator")


def mlp_critic(
    input_dim: int = 2,
    units: int = 512,
    depth: int = 3,
    num_classes: int | None = None,
    conditioning: str | None = None,
    auxiliary_classifier: bool = False,
    q_outputs: int | None = None,
) -> keras.Model:
    """The toy-experiment critic: `depth` ReLU layers of `units`, one linear score.

    Args:
        input_dim: Size of each example.
        units: Width of every hidden layer (512 in the paper).
        depth: Number of hidden layers (3 in the paper).
        num_classes: If set, a conditional critic called as `c([x, y])`.
        conditioning: How the label enters: `"projection"` (the default
            with `num_classes`: f(x, y) = ψ(φ(x)) + embed(y)·φ(x), Miyato &
            Koyama 2018), `"concat"` (the one-hot label appended to x, Mirza
            & Osindero 2014) or `"none"` (the default for an ACGAN critic,
            which still takes `[x, y]` but classifies instead).
        auxiliary_classifier: Add ACGAN's head of `num_classes` class logits.
        q_outputs: Add InfoGAN's Q head with this many outputs (see
            `keras_wgangp.codes`).

    Returns:
        A functional `keras.Model` mapping `(batch, input_dim)` (and labels)
        to scores `(batch, 1)`, or to `[score, class_logits?, q?]` with heads.

    Examples:
        >>> d = mlp_critic(input_dim=2, units=32)
        >>> d.output_shape
        (None, 1)
        >>> mlp_critic(units=32, num_classes=8, auxiliary_classifier=True).output_shape
        [(None, 1), (None, 8)]
    """
    num_classes = check_num_classes(num_classes)
    conditioning = _critic_options(num_classes, conditioning, auxiliary_classifier, q_outputs)
    x_in = keras.Input((input_dim,), name="x")
    inputs = _critic_inputs(x_in, num_classes)
    x = x_in
    if conditioning == "concat":
        one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(inputs[1])
        x = layers.Concatenate(name="x_and_label")([x, one_hot])
    for i in range(depth):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    # float32 scores even under a mixed-precision policy.
    label = inputs[1] if num_classes is not None else None
    outputs = _critic_outputs(x, label, num_classes, conditioning, auxiliary_classifier, q_outputs, units)
    return keras.Model(inputs, outputs, name="mlp_critic")


def dcgan_generator(
    latent_dim: int, image_shape=(28, 28, 1), filters: int = 64, num_classes: int | None = None
) -> keras.Model:
    """A DCGAN generator (Radford et al. 2016) ending in tanh, for square images.

    Dense projection to a 4×4 (7×7 for side 28) map with `filters·2^k`
    channels, then stride-2 transposed convolutions with BatchNorm and ReLU,
    halving the channels at each doubling, and a final 3×3 convolution to the
    image channels with tanh.

    Args:
        latent_dim: Size of z.
        image_shape: `(side, side, channels)` with side in 8, 16, 28, 32, 64, 128
            and 1 or 3 channels.
        filters: Channels of the last hidden layer (the width knob).
        num_classes: If set, a conditional generator called as `g([z, y])`;
            the embedded label is concatenated with z before the projection.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` (and labels)
        to images in [-1, 1].

    Examples:
        >>> dcgan_generator(64, (32, 32, 3)).output_shape
        (None, 32, 32, 3)
        >>> dcgan_generator(64, (16, 16, 1), filters=8, num_classes=10).input_shape
        [(None, 64), (None,)]
    """
    side, _, channels = _check_image_shape(image_shape)
    start, ups = _start_size(side)
    width = filters * 2 ** max(ups - 1, 0)
    inputs, z = _generator_inputs(latent_dim, num_classes)
    x = layers.Dense(start * start * width, use_bias=False, name="project")(z)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((start, start, width))(x)
    for i in range(ups):
        width = max(filters, width // 2) if i else width
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False, name=f"up_{i}")(x)
        x = layers.BatchNormalization(name=f"up_{i}_bn")(x)
        x = layers.ReLU()(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(inputs, x, name="dcgan_generator")


def dcgan_critic(
    image_shape=(28, 28, 1),
    filters: int = 64,
    normalization: str = "none",
    num_classes: int | None = None,
    conditioning: str | None = None,
    auxiliary_classifier: bool = False,
    q_outputs: int | None = None,
) -> keras.Model:
    """A DCGAN critic without BatchNorm: stride-2 convolutions and LeakyReLU(0.2).

    Channels double at each halving of the resolution down to 4×4 (7×7 for
    side 28, then one more step to 4×4), then Flatten and one linear score.

    Args:
        image_shape: `(side, side, channels)` with side in 8, 16, 28, 32, 64, 128.
        filters: Channels of the first convolution.
        normalization: `"none"` or `"layer"` (LayerNormalization per example).
            BatchNorm is deliberately not offered.
        num_classes: If set, a conditional critic called as `c([x, y])`.
        conditioning: `"projection"` (the default with `num_classes`:
            ψ(φ(x)) + embed(y)·φ(x) on the flattened features, Miyato &
            Koyama 2018), `"concat"` (the one-hot label as extra input
            channels, as in Mirza & Osindero 2014 and keras.io's conditional
            GAN) or `"none"` (the default for an ACGAN critic).
        auxiliary_classifier: Add ACGAN's class-logit head (Odena et al. 2017).
        q_outputs: Add InfoGAN's Q head with this many outputs.

    Returns:
        A functional `keras.Model` mapping images (and labels) to scores of
        shape `(batch, 1)`, or to `[score, class_logits?, q?]` with heads.

    Examples:
        >>> dcgan_critic((16, 16, 1), normalization="layer").output_shape
        (None, 1)
        >>> dcgan_critic((16, 16, 1), filters=8, num_classes=10, auxiliary_classifier=True).output_shape
        [(None, 1), (None, 10)]
    """
    side, _, channels = _check_image_shape(image_shape, critic=True)
    _normalization(normalization, "check")
    num_classes = check_num_classes(num_classes)
    conditioning = _critic_options(num_classes, conditioning, auxiliary_classifier, q_outputs)
    steps = max(2, int(math.ceil(math.log2(side / 4))))  # at least two, so every critic can normalize
    x_in = keras.Input((side, side, channels), name="image")
    inputs = _critic_inputs(x_in, num_classes)
    x = x_in
    if conditioning == "concat":
        one_hot = layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(inputs[1])
        planes = layers.Reshape((1, 1, num_classes))(one_hot)
        planes = layers.UpSampling2D(size=(side, side), name="label_planes")(planes)
        x = layers.Concatenate(name="image_and_label")([x, planes])
    for i in range(steps):
        x = layers.Conv2D(filters * 2**i, 4, strides=2, padding="same", name=f"down_{i}")(x)
        if i and normalization != "none":
            x = _normalization(normalization, f"down_{i}_norm")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    label = inputs[1] if num_classes is not None else None
    outputs = _critic_outputs(x, label, num_classes, conditioning, auxiliary_classifier, q_outputs, 128)
    return keras.Model(inputs, outputs, name="dcgan_critic")


def _residual_block(x, filters: int, resample: str | None, normalization: str, name: str):
    """The paper's ResidualBlock: two 3x3 convs, resampling, 1x1 shortcut when needed."""
    shortcut = x
    if resample == "up":
        shortcut = layers.UpSampling2D(name=f"{name}_sc_up")(shortcut)
    if resample is not None or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, name=f"{name}_sc_conv")(shortcut)
    if resample == "down":
        shortcut = layers.AveragePooling2D(2, name=f"{name}_sc_pool")(shortcut)

    h = x
    norm = _norm_layer(normalization, f"{name}_norm1")
    if norm is not None:
        h = norm(h)
    h = layers.ReLU()(h)
    if resample == "up":
        h = layers.UpSampling2D(name=f"{name}_up")(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(h)
    norm = _norm_layer(normalization, f"{name}_norm2")
    if norm is not None:
        h = norm(h)
    h = layers.ReLU()(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)
    if resample == "down":
        h = layers.AveragePooling2D(2, name=f"{name}_pool")(h)
    return layers.Add(name=f"{name}_add")([shortcut, h])


def _norm_layer(kind: str, name: str):
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    return _normalization(kind, name)


def resnet_generator(latent_dim: int = 128, image_shape=(32, 32, 3), dim: int = 128) -> keras.Model:
    """The paper's CIFAR-10 ResNet generator (Gulrajani et al. 2017, appendix).

    Linear to 4×4×`dim`, residual blocks that each upsample ×2 (BatchNorm,
    ReLU, 3×3 convs, 1×1 shortcut), then BatchNorm, ReLU, a 3×3 conv to the
    image channels and tanh. Three up-blocks for 32×32 (the paper's setting).

    Args:
        latent_dim: Size of z (128 in the paper).
        image_shape: `(side, side, channels)` with side in 8, 16, 28, 32, 64, 128.
        dim: Channels of every block (DIM = 128 in the paper).

    Returns:
        A functional `keras.Model`.

    Examples:
        >>> resnet_generator(128, (32, 32, 3), dim=32).output_shape
        (None, 32, 32, 3)
    """
    side, _, channels = _check_image_shape(image_shape)
    start, ups = _start_size(side)
    z = keras.Input((latent_dim,), name="z")
    x = layers.Dense(start * start * dim, name="project")(z)
    x = layers.Reshape((start, start, dim))(x)
    for i in range(ups):
        x = _residual_block(x, dim, "up", "batch", f"block_{i}")
    x = layers.BatchNormalization(name="out_bn")(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_image")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, x, name="resnet_generator")


def resnet_critic(image_shape=(32, 32, 3), dim: int = 128, normalization: str = "none") -> keras.Model:
    """The paper's CIFAR-10 ResNet critic, with no BatchNorm.

    A first down-sampling block (conv, conv, mean-pool, 1×1 shortcut), a
    second down-sampling block, two blocks without resampling, ReLU, global
    mean pooling and a linear score. Smaller images get fewer down-samplings.

    Args:
        image_shape: `(side, side, channels)` with side in 8, 16, 28, 32, 64, 128.
        dim: Channels of every block (128 in the paper).
        normalization: `"none"` (the paper) or `"layer"`.

    Returns:
        A functional `keras.Model` mapping images to `(batch, 1)` scores.

    Examples:
        >>> resnet_critic((32, 32, 3), dim=32).output_shape
        (None, 1)
    """
    side, _, channels = _check_image_shape(image_shape, critic=True)
    _normalization(normalization, "check")
    downs = 2 if side >= 16 else 1
    x_in = keras.Input((side, side, channels), name="image")
    # First block: no activation before the first conv (the paper's OptimizedResBlockDisc1).
    h = layers.Conv2D(dim, 3, padding="same", name="block_0_conv1")(x_in)
    h = layers.ReLU()(h)
    h = layers.Conv2D(dim, 3, padding="same", name="block_0_conv2")(h)
    h = layers.AveragePooling2D(2, name="block_0_pool")(h)
    shortcut = layers.AveragePooling2D(2, name="block_0_sc_pool")(x_in)
    shortcut = layers.Conv2D(dim, 1, name="block_0_sc_conv")(shortcut)
    x = layers.Add(name="block_0_add")([shortcut, h])
    blocks = ["down"] * (downs - 1) + [None, None]
    for i, resample in enumerate(blocks, start=1):
        x = _residual_block(x, dim, resample, normalization, f"block_{i}")
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(1, dtype="float32", name="score")(x)
    return keras.Model(x_in, x, name="resnet_critic")


@keras.saving.register_keras_serializable(package="keras_wgangp")
class ReconstructionError(layers.Layer):
    """Per-example mean absolute error between `[x, reconstruction]`, in float32.

    Examples:
        >>> import numpy as np
        >>> ReconstructionError()([np.zeros((2, 3)), np.ones((2, 3))]).numpy().tolist()
        [1.0, 1.0]
    """

    def call(self, inputs):
        x, reconstruction = (keras.ops.cast(t, "float32") for t in inputs)
        error = keras.ops.abs(x - reconstruction)
        return keras.ops.mean(keras.ops.reshape(error, (keras.ops.shape(error)[0], -1)), axis=1)

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0],)


def began_critic(input_shape=(2,), units: int = 128, depth: int = 2, code_dim: int = 32) -> keras.Model:
    """The BEGAN critic (Berthelot et al. 2017): an autoencoder whose score
    for an example is its reconstruction error L(x) = mean |x − AE(x)|.

    Use it with `GAN(..., loss="began")`. ELU activations, as in the paper.
    For vectors (`input_shape=(d,)`) the encoder and decoder are MLPs of
    `depth` layers of `units`; for square images (`(side, side, channels)`,
    side in 8, 16, 28, 32, 64, 128) they are 3×3 convolutions with `units`
    channels per level, stride-2 down to 4×4 (7×7 for side 28) and
    nearest-neighbour upsampling back, around a `code_dim` bottleneck.

    Args:
        input_shape: `(d,)` for vectors or `(side, side, channels)` for images.
        units: Hidden width (MLP units or conv channels).
        depth: Hidden layers of each MLP half (vectors only).
        code_dim: Size of the bottleneck h.

    Returns:
        A functional `keras.Model` mapping a batch to scores of shape `(batch,)`.

    Examples:
        >>> began_critic((2,), units=16).output_shape
        (None,)
        >>> began_critic((16, 16, 1), units=8).output_shape
        (None,)
    """
    input_shape = tuple(int(v) for v in input_shape)
    x_in = keras.Input(input_shape, name="x")
    if len(input_shape) == 1:
        x = x_in
        for i in range(depth):
            x = layers.Dense(units, activation="elu", name=f"encode_{i}")(x)
        x = layers.Dense(code_dim, name="code")(x)
        for i in range(depth):
            x = layers.Dense(units, activation="elu", name=f"decode_{i}")(x)
        reconstruction = layers.Dense(input_shape[0], dtype="float32", name="reconstruction")(x)
    else:
        side, _, channels = _check_image_shape(input_shape, critic=True)
        start, ups = _start_size(side)
        x = layers.Conv2D(units, 3, padding="same", activation="elu", name="encode_in")(x_in)
        for i in range(ups):
            x = layers.Conv2D(
                units * (i + 2), 3, strides=2, padding="same", activation="elu", name=f"down_{i}"
            )(x)
        x = layers.Flatten()(x)
        x = layers.Dense(code_dim, name="code")(x)
        x = layers.Dense(start * start * units, name="decode_project")(x)
        x = layers.Reshape((start, start, units))(x)
        for i in range(ups):
            x = layers.Conv2D(units, 3, padding="same", activation="elu", name=f"decode_{i}")(x)
            x = layers.UpSampling2D(2, interpolation="nearest")(x)
        reconstruction = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="reconstruction")(x)
    score = ReconstructionError(name="reconstruction_error")([x_in, reconstruction])
    return keras.Model(x_in, score, name="began_critic")
