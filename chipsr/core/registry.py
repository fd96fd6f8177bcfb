"""The model registry and the config base class every chipsr network is built from.

A model is an ``nn.Module`` whose constructor takes one config dataclass (a subclass of
:class:`ModelConfig`) and keeps it as ``model.config``. The config knows its registry name, so
``config.to_dict()`` is the plain JSON-serialisable dict ``{"name": ..., **fields}`` that a
checkpoint stores (:mod:`chipsr.io.checkpoint`), and :func:`build_model` turns that dict back into
the same architecture. The registry is open: a task adds its own networks with
:func:`register_model` when its model module is imported (the ChIP-seq task's Coda CNN and linear
filter, the audio task's DNN baseline, the imputation task's dense network), so a process must
import the task module before it rebuilds one of those from a checkpoint.

The networks of :mod:`chipsr.core` itself (the U-Nets of :mod:`chipsr.core.models` and the
baselines of :mod:`chipsr.core.baselines`) are always registered: :func:`build_model` imports them
on first use.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from torch import nn

__all__ = [
    "ModelConfig",
    "MODELS",
    "register_model",
    "build_model",
    "model_from_checkpoint",
]

_SCALARS = (bool, int, float, str)


def _coerce(value: Any, hint: Any, field: str) -> Any:
    """``value`` as the scalar type of ``hint`` (``int``, ``float | None``, ...); None only where allowed."""
    options = typing.get_args(hint) or (hint,)
    if value is None:
        if type(None) in options:
            return None
        raise TypeError(f"{field} must not be None")
    scalar = next((t for t in options if t in _SCALARS), None)
    return value if scalar is None else scalar(value)


class ModelConfig(Mapping):
    """Base class of the models' config dataclasses.

    A subclass is a ``@dataclass(frozen=True)`` whose fields are the architecture's settings (with
    the defaults of the model) and whose class variable ``name`` is the model's registry name. On
    construction every field is converted to its annotated scalar type (``int``, ``float``,
    ``bool``, ``str``; ``None`` where the annotation allows it), so the config of a model built from
    numpy numbers still serialises to JSON.

    The config reads like the dict a checkpoint stores: ``dict(config)``, ``config["depth"]``,
    ``config.items()`` and ``config.to_dict()`` all give ``{"name": name, **fields}``.

    Raises
    ------
    TypeError
        A field that may not be None is None, or a required field is missing.
    ValueError
        A value cannot be converted to its field's type (e.g. ``int("x")``), or a subclass's own
        checks fail.
    """

    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _coerce(getattr(self, f.name), hints[f.name], f.name))

    # ------------------------------------------------------------------ dict view
    def _keys(self) -> tuple[str, ...]:
        return ("name", *(f.name for f in dataclasses.fields(self)))

    def __getitem__(self, key: str) -> Any:
        if key == "name":
            return self.name
        if key in self._keys():
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint form: ``{"name": name, **fields}`` (plain Python scalars; JSON-serialisable)."""
        return dict(self)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> ModelConfig:
        """The config of a checkpoint dict; missing fields take their defaults.

        Parameters
        ----------
        config : mapping
            ``{"name": name, **fields}`` (``"name"`` may be left out).

        Raises
        ------
        ValueError
            ``config["name"]`` is another model's, or a key is not a field (the message names the
            unknown keys and lists the allowed ones).
        """
        kwargs = dict(config)
        name = kwargs.pop("name", cls.name)
        if name != cls.name:
            raise ValueError(f"a config of model {name!r} cannot build {cls.name!r}")
        allowed = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise ValueError(f"unknown key(s) {unknown} for model {cls.name!r}; allowed: {sorted(allowed)}")
        return cls(**kwargs)

    @classmethod
    def from_args(cls, args: tuple, fields: dict[str, Any]) -> ModelConfig:
        """The config of a model constructor call: ``Model(config)``, or the fields themselves.

        ``Model(config)`` with one instance of exactly this class returns it; otherwise ``args`` and
        ``fields`` are the dataclass's positional and keyword arguments (so ``TFiLMUNet(3, 1,
        depth=3)`` builds ``TFiLMUNetConfig(3, 1, depth=3)``).

        Raises
        ------
        TypeError
            A config of another class, a config mixed with other arguments, or what the dataclass
            itself rejects.
        """
        if len(args) == 1 and not fields and type(args[0]) is cls:
            return args[0]
        if any(isinstance(a, ModelConfig) for a in (*args, *fields.values())):
            raise TypeError(f"expected one {cls.__name__} and nothing else, or its fields; got {args!r}, {fields!r}")
        return cls(*args, **fields)


#: The registry: ``build_model`` name -> builder (a model class or any callable returning an
#: ``nn.Module``). Open: tasks add their own networks with :func:`register_model` (e.g.
#: ``chipsr.tasks.impute.model`` registers ``"impute_dnn"`` when imported).
MODELS: dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str, builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Make :func:`build_model` rebuild the configs named ``name`` with ``builder``.

    Two kinds of builder:

    - a model class with a ``config_class`` attribute (a :class:`ModelConfig` dataclass whose
      ``name`` is ``name``): ``build_model(d)`` calls ``builder(config_class.from_dict(d))``;
    - any other callable: ``build_model({"name": name, **kwargs})`` calls ``builder(**kwargs)``; its
      signature lists the keys a config may hold, and the model it returns must store a
      JSON-serialisable ``config`` dict with ``"name": name`` and those arguments.

    A checkpoint of the model can then be rebuilt in any process that has registered ``name``
    first (importing the module that registers it is enough).

    Parameters
    ----------
    name : str
        The config's ``"name"``; a non-empty string.
    builder : callable
        A model class or a function.

    Returns
    -------
    callable
        ``builder``, unchanged.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``builder`` is not callable.
    ValueError
        If ``name`` is already registered to a different builder (registering the same builder
        again is a no-op).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"model name must be a non-empty string; got {name!r}")
    if not callable(builder):
        raise TypeError(f"builder for model {name!r} must be callable; got {builder!r}")
    known = MODELS.get(name)
    if known is not None and known is not builder:
        raise ValueError(f"model name {name!r} is already registered to {known!r}")
    MODELS[name] = builder
    return builder


def build_model(config: Mapping[str, Any]) -> nn.Module:
    """Build a model from its config: a checkpoint's ``config`` dict or a model's ``model.config``.

    Parameters
    ----------
    config : mapping
        ``{"name": <one of MODELS>, **fields}`` (missing fields take their defaults; the mapping is
        not modified), or a :class:`ModelConfig` instance. ``MODELS`` holds the networks of
        :mod:`chipsr.core` and whatever tasks added with :func:`register_model`.

    Returns
    -------
    nn.Module
        A freshly initialised model; load a ``state_dict`` into it for trained weights.

    Raises
    ------
    ValueError
        If ``name`` is missing or unknown (the message lists the known names), or a key is not a
        field of that model (the message names it), or the model rejects a value.
    """
    import chipsr.core.models  # noqa: F401  (registers the core networks)

    if not isinstance(config, Mapping) or "name" not in config:
        raise ValueError(f"model config must be a dict with a 'name' key; got {config!r}")
    name = config["name"]
    if name not in MODELS:
        raise ValueError(f"unknown model name {name!r}; known: {', '.join(sorted(MODELS))}")
    builder = MODELS[name]
    config_class = getattr(builder, "config_class", None)
    if config_class is not None:
        return builder(config if type(config) is config_class else config_class.from_dict(config))
    kwargs = {k: v for k, v in config.items() if k != "name"}
    allowed = set(inspect.signature(builder).parameters) - {"self"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} for model {name!r}; allowed: {sorted(allowed)}")
    return builder(**kwargs)


def model_from_checkpoint(checkpoint: dict) -> nn.Module:
    """Rebuild the model of a loaded checkpoint with its best weights, in eval mode.

    Parameters
    ----------
    checkpoint : dict
        ``{"config", "state_dict", ...}``, e.g. from :func:`chipsr.io.checkpoint.load_checkpoint`.
        Floating weights of any dtype (float16 in exported checkpoints) load as float32.

    Returns
    -------
    nn.Module
        The model, float32, in eval mode.

    Raises
    ------
    ValueError
        An unknown model name in ``config`` (:func:`build_model`): a task's network whose task
        module has not been imported; or weights that do not fit the config (a missing, unexpected
        or differently shaped tensor: the message names the first).
    """
    model = build_model(checkpoint["config"])
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:  # torch lists every mismatch over many lines
        detail = next((ln.strip() for ln in str(exc).splitlines()[1:] if ln.strip()), str(exc))
        raise ValueError(f"its weights do not fit its config ({detail[:200]})") from None
    return model.float().eval()
