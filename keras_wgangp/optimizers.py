"""A GAN's optimizers: the published defaults, loss scaling, and configs that load anywhere."""

from __future__ import annotations

import keras

__all__ = [
    "build",
    "compile_config",
    "dcgan_adam",
    "from_compile_config",
    "pair",
    "paper_adam",
    "portable_config",
    "with_loss_scaling",
]


def dcgan_adam() -> keras.optimizers.Optimizer:
    """Adam(2e-4, β1=0.5, β2=0.999): the DCGAN setting (Radford et al. 2016), `GAN`'s default.

    Returns:
        A new `keras.optimizers.Adam`.

    Examples:
        >>> dcgan_adam().beta_1
        0.5
    """
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)


def paper_adam() -> keras.optimizers.Optimizer:
    """Adam(1e-4, β1=0, β2=0.9): Algorithm 1 of Gulrajani et al. 2017, `WGANGP`'s default.

    Returns:
        A new `keras.optimizers.Adam`.

    Examples:
        >>> paper_adam().beta_2
        0.9
    """
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)


def with_loss_scaling(optimizer, role: str):
    """Wraps `optimizer` in a `LossScaleOptimizer` under the `mixed_float16` policy.

    float16 needs dynamic loss scaling to keep small gradients from
    flushing to zero; bfloat16 has float32's range and needs none.

    Args:
        optimizer: The optimizer.
        role: `"generator"` or `"critic"`, for the wrapper's name.

    Returns:
        The optimizer, wrapped where needed.

    Examples:
        >>> type(with_loss_scaling(dcgan_adam(), "critic")).__name__  # float32 policy
        'Adam'
    """
    policy = keras.mixed_precision.global_policy()
    if policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{role}_loss_scale_optimizer")
    return optimizer


def portable_config(config):
    """An optimizer config that deserializes on every backend.

    PyTorch's built-in optimizers serialize under their backend module (for
    example `keras.src.backend.torch.optimizers.torch_adam`), which the other
    backends cannot import; the public `keras.optimizers` name resolves to
    each backend's own class.

    Args:
        config: A `keras.saving.serialize_keras_object` dict.

    Returns:
        The config, its module set to `keras.optimizers` where needed.

    Examples:
        >>> portable_config({"module": "keras.src.backend.torch.optimizers.torch_adam"})["module"]
        'keras.optimizers'
    """
    if isinstance(config, dict) and str(config.get("module", "")).startswith("keras.src.backend."):
        config = {**config, "module": "keras.optimizers"}
    return config


def build(pairs) -> None:
    """Builds each unbuilt optimizer for its built network's trainable variables.

    Built as soon as possible, so that `load_weights` (or a `.keras` loader)
    right after `compile` restores the optimizers' state too.

    Args:
        pairs: `(optimizer or None, network)` pairs.

    Returns:
        None.

    Examples:
        >>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> optimizer = dcgan_adam()
        >>> build([(optimizer, net)]); optimizer.built
        True
    """
    for optimizer, net in pairs:
        if optimizer is not None and not optimizer.built and net.built:
            optimizer.build(net.trainable_variables)


def compile_config(generator_optimizer, critic_optimizer, options: dict) -> dict:
    """What `GAN.get_compile_config` saves: both optimizers' portable configs and the options.

    Args:
        generator_optimizer: The generator's optimizer (before loss scaling).
        critic_optimizer: The critic's.
        options: `steps_per_execution`, `jit_compile` and `run_eagerly`.

    Returns:
        A JSON-serialisable dict.

    Examples:
        >>> sorted(compile_config(dcgan_adam(), dcgan_adam(), {"run_eagerly": False}))
        ['critic_optimizer', 'generator_optimizer', 'run_eagerly']
    """
    serialize = keras.saving.serialize_keras_object
    return {
        "generator_optimizer": portable_config(serialize(generator_optimizer)),
        "critic_optimizer": portable_config(serialize(critic_optimizer)),
        **options,
    }


def from_compile_config(config: dict) -> dict:
    """`compile`'s keyword arguments from a saved `compile_config`.

    Args:
        config: A dict from `compile_config`.

    Returns:
        The same keys with the optimizers deserialized.

    Examples:
        >>> config = from_compile_config(compile_config(dcgan_adam(), paper_adam(), {}))
        >>> type(config["critic_optimizer"]).__name__
        'Adam'
    """
    config = dict(config)
    for key in ("generator_optimizer", "critic_optimizer"):
        if config.get(key) is not None:
            config[key] = keras.saving.deserialize_keras_object(portable_config(config[key]))
    return config


def pair(generator_optimizer, critic_optimizer, default):
    """The two optimizers of `compile`: each resolved with `keras.optimizers.get`, or `default()`.

    Args:
        generator_optimizer: An optimizer, its name or config, or None.
        critic_optimizer: The same; it must not be the generator's object.
        default: A function returning a new default optimizer.

    Returns:
        `(generator_optimizer, critic_optimizer)`.

    Examples:
        >>> g, c = pair(None, "sgd", dcgan_adam)
        >>> type(g).__name__, type(c).__name__
        ('Adam', 'SGD')
    """
    generator_optimizer = keras.optimizers.get(generator_optimizer) or default()
    critic_optimizer = keras.optimizers.get(critic_optimizer) or default()
    if generator_optimizer is critic_optimizer:
        raise ValueError(
            "generator_optimizer and critic_optimizer are the same object; each network needs "
            "its own optimizer instance (their moments and iteration counts must not be shared)."
        )
    return generator_optimizer, critic_optimizer
