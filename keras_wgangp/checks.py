"""Checks on a GAN's options and networks, run before any weight changes.

Each check raises `ValueError` or `TypeError` with a message that names the
problem and the fix. `check_networks` runs both networks once on two real
examples in inference mode, so a shape or input mismatch is reported in
the user's terms instead of deep inside a traced training step.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from keras_wgangp._options import check_count, check_num_classes, check_weight
from keras_wgangp.conditioning import Conditioning, pack

__all__ = [
    "check_gan_options",
    "check_ema_decay",
    "check_fit_arguments",
    "check_networks",
    "check_optional_positive",
    "check_pack",
    "has_batch_norm",
    "infer_latent_dim",
    "warn_batch_norm",
]

ops = keras.ops


def check_gan_options(
    generator,
    critic,
    critic_steps,
    clip_value,
    ema_decay,
    num_classes,
    classifier_weight,
    latent_codes,
    info_weight,
    pack,
) -> dict:
    """`GAN`'s constructor options, checked and normalised (ints, floats, None).

    Args:
        generator: The generator (a Keras layer or model).
        critic: The critic (a Keras layer or model).
        critic_steps: An integer >= 1.
        clip_value: None or > 0.
        ema_decay: None or in (0, 1).
        num_classes: None or an integer >= 2.
        classifier_weight: None, or a weight >= 0 when `num_classes` is set.
        latent_codes: The InfoGAN codes (a list; only checked with `pack`).
        info_weight: A weight >= 0.
        pack: An integer >= 1; > 1 needs no labels and no codes.

    Returns:
        A dict of the normalised options, keyed by name.

    Examples:
        >>> layer = keras.layers.Dense(1)
        >>> check_gan_options(layer, layer, 5, None, 0.999, None, None, [], 1, 1)["critic_steps"]
        5
    """
    for role, net in (("generator", generator), ("critic", critic)):
        if not isinstance(net, keras.layers.Layer):
            raise TypeError(f"`{role}` must be a Keras model or layer, got {type(net).__name__}.")
    options = {
        "critic_steps": check_count("critic_steps", critic_steps),
        "clip_value": check_optional_positive("clip_value", clip_value),
        "ema_decay": check_ema_decay(ema_decay),
        "num_classes": check_num_classes(num_classes),
        "pack": check_pack(pack, num_classes, latent_codes),
    }
    if classifier_weight is not None:
        if options["num_classes"] is None:
            raise ValueError(
                "`classifier_weight` (ACGAN) needs labels: pass num_classes=K too, with a critic "
                "returning [score, class_logits]."
            )
        classifier_weight = check_weight("classifier_weight", classifier_weight)
    return options | {
        "classifier_weight": classifier_weight,
        "info_weight": check_weight("info_weight", info_weight),
    }


def check_optional_positive(name: str, value) -> float | None:
    """None, or `value` as a float if it is > 0 (for `clip_value`).

    Args:
        name: The argument's name.
        value: None or a number.

    Returns:
        None or `float(value)`.

    Examples:
        >>> check_optional_positive("clip_value", 0.01)
        0.01
    """
    if value is not None and not value > 0:
        raise ValueError(f"`{name}` must be > 0 or None, got {value!r}.")
    return None if value is None else float(value)


def check_ema_decay(value) -> float | None:
    """None, or the EMA decay as a float in (0, 1).

    Args:
        value: None or a number.

    Returns:
        None or `float(value)`.

    Examples:
        >>> check_ema_decay(0.999)
        0.999
    """
    if value is not None and not 0.0 < value < 1.0:
        raise ValueError(f"`ema_decay` must be in (0, 1) or None, got {value!r}.")
    return None if value is None else float(value)


def check_pack(pack, num_classes, latent_codes) -> int:
    """PacGAN's degree as an int >= 1; packing needs one score per group, so no labels or codes.

    Args:
        pack: The packing degree m.
        num_classes: The GAN's `num_classes`.
        latent_codes: The GAN's InfoGAN codes.

    Returns:
        `int(pack)`.

    Examples:
        >>> check_pack(2, None, [])
        2
    """
    if isinstance(pack, bool) or not isinstance(pack, (int, np.integer)) or pack < 1:
        raise ValueError(f"`pack` must be an integer >= 1 (1: no packing), got {pack!r}.")
    if pack > 1 and (num_classes is not None or latent_codes):
        raise ValueError(
            "`pack` > 1 (PacGAN) scores groups of examples, so it cannot be combined with "
            "num_classes (one label per example) or latent_codes (one code per example); "
            "use pack=1 for conditional and InfoGAN models."
        )
    return int(pack)


def infer_latent_dim(generator, conditional: bool, code_size: int) -> int:
    """The size of z from the generator's input shape (minus the codes' columns).

    Args:
        generator: The generator.
        conditional: Whether it takes `[z, labels]`.
        code_size: InfoGAN code columns that follow z.

    Returns:
        latent_dim.

    Examples:
        >>> infer_latent_dim(keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)]), False, 2)
        3
    """
    try:
        shape = generator.input_shape
    except (AttributeError, ValueError):
        shape = None
    if conditional and isinstance(shape, list) and len(shape) == 2:
        shape = shape[0]  # [(batch, latent_dim), (batch,)]
    if isinstance(shape, (list, tuple)) and len(shape) == 2 and isinstance(shape[1], int):
        if shape[1] - code_size < 1:
            raise ValueError(
                f"The generator takes {shape[1]} latent inputs, but the latent codes alone need "
                f"{code_size}; give it latent_dim + {code_size} inputs (z, then the codes)."
            )
        return int(shape[1]) - code_size
    expected = (
        "[(batch, latent_dim), (batch,)] inputs" if conditional else "a single (batch, latent_dim) input"
    )
    raise ValueError(
        f"Could not infer `latent_dim` from the generator (it has no {expected}; "
        f"input_shape={shape!r}). Pass `latent_dim=` explicitly."
    )


def has_batch_norm(model, warn: bool = False) -> bool:
    """Whether any layer of `model` is a BatchNormalization (with `warn`, a warning says why to avoid it).

    Args:
        model: A Keras layer or model.
        warn: Warn when it has one (`warn_batch_norm`).

    Returns:
        True or False.

    Examples:
        >>> has_batch_norm(keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization()]))
        True
    """
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else []
    found = any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
    if found and warn:
        warn_batch_norm(stacklevel=4)
    return found


def warn_batch_norm(stacklevel: int = 3) -> None:
    """Warns that BatchNorm breaks per-example gradient penalties.

    Args:
        stacklevel: Passed to `warnings.warn`.

    Returns:
        None.

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_batch_norm()
        >>> "LayerNormalization" in str(caught[0].message)
        True
    """
    warnings.warn(
        "The critic contains BatchNormalization. Gradient penalties are "
        "defined per example, but BatchNorm makes each score depend on the "
        "whole batch, so the penalised gradient is not the critic's "
        "per-example gradient (Gulrajani et al. 2017, sec. 4). Use "
        "keras.layers.LayerNormalization (or no normalization) instead.",
        UserWarning,
        stacklevel=stacklevel,
    )


def check_fit_arguments(model, batch_size, kwargs: dict) -> None:
    """Rejects what a GAN's `fit` cannot do; pops the unsupported keys left at their defaults.

    Args:
        model: The GAN.
        batch_size: `fit`'s batch size (or None).
        kwargs: `fit`'s other keyword arguments (modified in place).

    Returns:
        None.

    Examples:
        >>> class Model:
        ...     generator_optimizer, pack = "adam", 1
        >>> options = {"validation_data": None}
        >>> check_fit_arguments(Model(), 64, options); options
        {}
    """
    name = type(model).__name__
    for unsupported in ("validation_data", "validation_split", "sample_weight", "class_weight"):
        if kwargs.get(unsupported):
            hint = ""
            if unsupported.startswith("validation"):
                hint = (" To watch the critic on held-out real images, pass keras_wgangp.callbacks."
                        "CriticOverfitting(validation_images, train_images).")  # fmt: skip
            raise ValueError(f"{name}.fit does not support `{unsupported}`.{hint}")
        kwargs.pop(unsupported, None)
    if model.generator_optimizer is None:
        raise RuntimeError(f"Call `compile()` on the {name} model before `fit()`.")
    if model.pack > 1 and batch_size is not None and batch_size % model.pack:
        raise ValueError(
            f"`batch_size` ({batch_size}) must be a multiple of pack={model.pack}, so that "
            "every critic update scores whole packed groups."
        )


def check_networks(model, sample, labels=None) -> None:
    """Runs both networks of `model` on a tiny real batch, in inference mode.

    Checks that the generator takes its inputs and outputs examples shaped
    like the data, and that the critic takes them and returns one score per
    example (plus the class logits and Q heads the options ask for).

    Args:
        model: The GAN (its `conditioning`, `latent_dim`, `input_dim`,
            `generator` and `critic`).
        sample: A few real examples.
        labels: Their labels (conditional models).

    Returns:
        None.

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.GAN(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> check_networks(gan, np.zeros((2, 3), "float32"))
        Traceback (most recent call last):
        ...
        ValueError: The generator outputs examples of shape (2,) but the data has shape (3,). ...
    """
    wiring: Conditioning = model.conditioning
    n = len(sample)
    sample = ops.convert_to_tensor(sample)
    if getattr(model, "augment", None) is not None and len(sample.shape) != 4:
        raise ValueError(
            f"augment={model.augment.name!r} transforms images of shape (height, width, channels), but "
            f"the data's examples have shape {tuple(sample.shape[1:])}; use augment=None for vector data."
        )
    z = ops.zeros((n, model.input_dim))
    conditional = wiring.num_classes is not None
    if conditional:
        labels = ops.convert_to_tensor(np.asarray(labels, "int32"))
    takes = "[z, labels]" if conditional else "z"
    try:
        generated = model.generator(wiring.generator_inputs(z, labels), training=False)
    except Exception as error:
        hint = (
            f" A conditional GAN (num_classes={wiring.num_classes}) calls generator([z, labels]) "
            "with int labels of shape (batch,); build it with num_classes (e.g. "
            "mlp_generator(..., num_classes=K))."
            if conditional
            else " If the generator takes labels, pass num_classes=K to the GAN."
        )
        raise ValueError(
            f"The generator failed on {takes} with z of shape {tuple(z.shape)} "
            f"(latent_dim={model.latent_dim}, code columns={wiring.code_size}): {error}.{hint}"
        ) from error
    if isinstance(generated, (list, tuple)):
        raise ValueError(f"The generator must return one tensor of examples, got {len(generated)} outputs.")
    if tuple(generated.shape[1:]) != tuple(sample.shape[1:]):
        raise ValueError(
            f"The generator outputs examples of shape {tuple(generated.shape[1:])} but the "
            f"data has shape {tuple(sample.shape[1:])}. Change the generator's last layers "
            "(or reshape the data) so the two match."
        )
    if wiring.pack > 1:  # n groups of pack examples
        sample = pack(ops.concatenate([sample] * wiring.pack, 0), wiring.pack)
    try:
        outputs = model.critic(wiring.critic_inputs(sample, labels), training=False)
    except Exception as error:
        hint = (
            " A conditional GAN calls critic([x, labels]); build it with num_classes=K."
            if conditional
            else " If the critic takes labels, pass num_classes=K to the GAN."
        )
        if wiring.pack > 1:
            hint = (
                f" With pack={wiring.pack} the critic scores packed groups of shape "
                f"{tuple(sample.shape[1:])}: build it for that input (for example "
                f"mlp_critic(input_dim={sample.shape[-1]}))."
            )
        raise ValueError(
            f"The critic failed on {'[x, labels]' if conditional else 'x'} with x of shape "
            f"{sample.shape}: {error}.{hint}"
        ) from error
    _check_critic_outputs(wiring, outputs, n)


def _check_critic_outputs(wiring: Conditioning, outputs, n: int) -> None:
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    heads = []
    if wiring.classifier:
        heads.append(("class_logits", wiring.num_classes))
    if wiring.latent_codes:
        heads.append(("q", wiring.code_size))
    expected = ["score"] + [f"{name} ({width})" for name, width in heads]
    if len(outputs) != len(expected):
        raise ValueError(
            f"The critic returns {len(outputs)} output(s), but this GAN expects "
            f"{len(expected)}: [{', '.join(expected)}]. An ACGAN critic (classifier_weight) adds "
            "class logits and InfoGAN codes add a Q head: build the critic with "
            "auxiliary_classifier=True / q_outputs=N, or change the GAN's options."
        )
    shape = tuple(outputs[0].shape)
    if shape not in ((n,), (n, 1)):
        raise ValueError(
            f"The critic must output one score per example, shape (batch, 1) or (batch,), "
            f"but for a batch of {n} it returned shape {shape}. End the critic "
            "with Flatten() and Dense(1)."
        )
    for output, (name, width) in zip(outputs[1:], heads, strict=True):
        if tuple(output.shape) != (n, width):
            raise ValueError(
                f"The critic's {name} output must have shape (batch, {width}), got {tuple(output.shape)}."
            )


def check_overfitting_watch(model, callbacks) -> None:
    """Refuses an augmentation that steers by r_v (`ADA(statistic="validation")`) without a
    `CriticOverfitting` callback to measure it.

    Args:
        model: The GAN.
        callbacks: `fit`'s callbacks (or None).

    Returns:
        None.

    Examples:
        >>> class Model:
        ...     augment = None
        >>> check_overfitting_watch(Model(), [])
    """
    augment = getattr(model, "augment", None)
    if augment is None or not augment.needs_validation:
        return
    if not any(getattr(callback, "observes_critic_overfitting", False) for callback in callbacks or []):
        raise ValueError(
            'ADA(statistic="validation") adjusts p from r_v measured on real images the critic never '
            "trains on: pass callbacks=[keras_wgangp.callbacks.CriticOverfitting(validation_images, "
            'train_images)] to fit, or use statistic="pair".'
        )
