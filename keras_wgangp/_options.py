"""Shared plumbing: the loss, penalty and code objects' config, repr, equality
and resolving a name, config dict or instance; the number checks they share."""

from __future__ import annotations

import numbers

import keras


class Configurable:
    """An object defined by its constructor options, as returned by `get_config`."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({options})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))


def resolve(identifier, names: dict, base: type, kind: str):
    """Returns `identifier` as an instance of `base`: from itself, a name in `names`
    (mapping to a factory) or a `keras.saving.serialize_keras_object` dict."""
    if isinstance(identifier, base):
        return identifier
    valid = ", ".join(sorted(names))
    if isinstance(identifier, str):
        if identifier not in names:
            raise ValueError(f"Unknown {kind} {identifier!r}; valid names: {valid}.")
        return names[identifier]()
    if isinstance(identifier, dict):
        obj = keras.saving.deserialize_keras_object(identifier)
        if isinstance(obj, base):
            return obj
    got = type(identifier).__name__
    article = "An" if kind[0] in "aeiou" else "A"
    raise TypeError(f"{article} {kind} must be a name ({valid}) or a {base.__name__}, got {got}.")


def check_num_classes(num_classes) -> int | None:
    """Returns `num_classes` as an int (Python or NumPy integers >= 2), or None."""
    if num_classes is None:
        return None
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an integer >= 2 or None, got {num_classes!r}.")
    return int(num_classes)


def check_count(name: str, value, minimum: int = 1) -> int:
    """`value` as an int, if it is an integer (not a bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def is_schedule(value) -> bool:
    """Whether `value` is a `keras.optimizers.schedules.LearningRateSchedule`."""
    return isinstance(value, keras.optimizers.schedules.LearningRateSchedule)


def check_scheduled_weight(name: str, value):
    """`value` as a float >= 0, or as a schedule (a schedule or its serialized dict)."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if is_schedule(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a number or a keras.optimizers.schedules.LearningRateSchedule, "
            f"got {type(value).__name__}."
        )
    return check_weight(name, value)


def weight_config(value):
    """A weight for `get_config`: a float as is, a schedule serialized."""
    return keras.saving.serialize_keras_object(value) if is_schedule(value) else value


def weight_at(value, iteration=None):
    """A weight's value at an optimizer iteration: a float as is, a schedule evaluated
    (at 0 when `iteration` is None) as a float32 scalar."""
    if not is_schedule(value):
        return value
    step = 0 if iteration is None else iteration
    return keras.ops.cast(value(step), "float32")


def check_weight(name: str, value) -> float:
    """`value` as a float, if it is finite and >= 0."""
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}.")
    return value
