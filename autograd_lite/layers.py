r"""Building blocks for networks: :class:`Module`, :class:`Parameter`, layers and initialisers.

A :class:`Module` is an ordinary Python object. Its parameters and sub-modules are found by
looking at its attributes, in the order they were assigned: an attribute holding a
:class:`Parameter` is a parameter, one holding a :class:`Module` is a child. Nothing is
intercepted: there is no ``__setattr__`` bookkeeping and no ``__getattr__`` fallback, so reading
a misspelt attribute raises ``AttributeError`` exactly as it does on any Python object.

Layers use only the public Tensor surface, so every forward pass is differentiable by the engine:

- :class:`Linear`: y = x Wᵀ + b, with W of shape (out, in), as in PyTorch;
- :class:`Sigmoid`, :class:`Tanh`, :class:`ReLU`: elementwise activations;
- :class:`Dropout`: inverted dropout, y = x · m / (1 − p) with m ~ Bernoulli(1 − p) in training,
  the identity in evaluation mode;
- :class:`Sequential`: modules applied one after the other;
- :class:`ModuleList`, :class:`ModuleDict`: sub-modules held in a list or by name (a plain
  list or dict of modules would hide their parameters, so assigning one is an error).

:func:`clip_grad_norm` rescales the gradients to a joint norm of at most ``max_norm``.

Initialisers take a shape ``(fan_out, fan_in)`` and a NumPy ``Generator`` (or a seed):
:func:`tutorial_normal` (the tutorial's truncated normal), :func:`xavier_uniform`,
:func:`xavier_normal`, :func:`he_uniform`, :func:`he_normal` and :func:`default_uniform`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from .ops.activations import elu, leaky_relu, softplus
from .ops.conv import avg_pool2d, conv2d, max_pool2d, pair
from .ops.linalg import matmul_transposed as _matmul_transposed
from .optim import writable_data
from .tensor import Tensor

__all__ = [
    "ELU",
    "INITIALISERS",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "clip_grad_norm",
    "default_uniform",
    "he_normal",
    "he_uniform",
    "truncated_normal",
    "tutorial_normal",
    "xavier_normal",
    "xavier_uniform",
]

RngLike = np.random.Generator | int | None


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


# -- initialisers --------------------------------------------------------------------------------


def truncated_normal(
    shape: tuple[int, ...],
    low: float,
    high: float,
    mean: float = 0.0,
    sd: float = 1.0,
    rng: RngLike = None,
) -> np.ndarray:
    r"""Sample N(mean, sd²) conditioned on low ≤ x ≤ high, by exact rejection sampling.

    On a narrow window (at most 2.5 sd wide) candidates are drawn uniformly on [low, high] and
    kept with probability exp(−(z² − m²)/2), z = (x − mean)/sd and m the smallest |z| in the
    window, which is exactly the truncated density; on a wide window, normal candidates outside
    the window are redrawn. (This is what ``scipy.stats.truncnorm`` samples, without SciPy.)
    """
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"truncated_normal: need finite low < high, got {low} and {high}")
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"truncated_normal: sd must be positive, got {sd}")
    gen = _rng(rng)
    a, b = (low - mean) / sd, (high - mean) / sd
    n = math.prod(shape)
    out = np.empty(n)
    filled = 0
    narrow = b - a <= 2.5
    m = 0.0 if a <= 0 <= b else min(abs(a), abs(b))
    while filled < n:
        k = max(2 * (n - filled), 16)
        if narrow:
            z = gen.uniform(a, b, k)
            z = z[gen.random(k) < np.exp(-(z * z - m * m) / 2)]
        else:
            z = gen.standard_normal(k)
            z = z[(z >= a) & (z <= b)]
        take = min(z.size, n - filled)
        out[filled : filled + take] = z[:take]
        filled += take
    return (mean + sd * out).reshape(shape)


def tutorial_normal(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""Draw the tutorial's initial weights: N(0, 1) truncated to ±1/√n_in, n_in = ``shape[1]``."""
    rad = 1.0 / math.sqrt(shape[1])
    return truncated_normal(shape, -rad, rad, 0.0, 1.0, rng)


def xavier_uniform(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""Glorot and Bengio's U(−a, a), a = √(6 / (n_in + n_out)); keeps the variance through tanh."""
    a = math.sqrt(6.0 / (shape[0] + shape[1]))
    return _rng(rng).uniform(-a, a, shape)


def xavier_normal(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""Glorot and Bengio's N(0, 2 / (n_in + n_out))."""
    return _rng(rng).normal(0.0, math.sqrt(2.0 / (shape[0] + shape[1])), shape)


def he_uniform(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""He et al.'s U(−a, a), a = √(6 / n_in); keeps the variance through ReLU."""
    a = math.sqrt(6.0 / shape[1])
    return _rng(rng).uniform(-a, a, shape)


def he_normal(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""He et al.'s N(0, 2 / n_in)."""
    return _rng(rng).normal(0.0, math.sqrt(2.0 / shape[1]), shape)


def default_uniform(shape: tuple[int, int], rng: RngLike = None) -> np.ndarray:
    r"""U(−1/√n_in, 1/√n_in), PyTorch's default for ``nn.Linear``."""
    a = 1.0 / math.sqrt(shape[1])
    return _rng(rng).uniform(-a, a, shape)


INITIALISERS: dict[str, Callable[[tuple[int, int], RngLike], np.ndarray]] = {
    "default": default_uniform,
    "tutorial": tutorial_normal,
    "xavier": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}


# -- modules -------------------------------------------------------------------------------------


class Parameter(Tensor):
    """A Tensor that a :class:`Module` owns and trains.

    It has ``requires_grad=True`` and holds a private copy of its data, float64 unless the data
    are already floating point.
    """

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        try:
            arr = np.array(data, dtype=dtype)  # a private copy
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Parameter: cannot make a numeric array from {type(data).__name__}: {exc}"
            ) from None
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"Parameter: data must be real numbers, got dtype {arr.dtype}")
        if dtype is None and arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        super().__init__(arr, requires_grad=True)

    def __repr__(self) -> str:
        """Return the Tensor's repr, named ``Parameter``."""
        return "Parameter" + super().__repr__()[len("Tensor") :]


def _check_not_hidden(module: Module, name: str, value: Any) -> None:
    """Raise ``TypeError`` if ``value`` is a plain container holding modules or parameters.

    A plain list, tuple or dict would hide its contents from :meth:`Module.parameters`.
    """
    if isinstance(value, dict):
        items: Any = value.values()
        container = "ModuleDict"
    elif isinstance(value, (list, tuple)):
        items, container = value, "ModuleList"
    else:
        return
    kinds = {type(v).__name__ for v in items if isinstance(v, (Module, Parameter))}
    if kinds:
        raise TypeError(
            f"{type(module).__name__}.{name} is a plain {type(value).__name__} holding "
            f"{', '.join(sorted(kinds))} objects, whose parameters would go unseen by "
            f"parameters(); hold modules in a {container}(...), and give each Parameter its "
            "own attribute"
        )


class Module:
    """Base class of layers and networks.

    Subclasses assign their :class:`Parameter` and :class:`Module` attributes in ``__init__``
    (after ``super().__init__()``) and define ``forward``; ``module(x)`` calls ``forward(x)``.
    """

    training: bool

    def __init__(self) -> None:
        self.training = True

    def __setattr__(self, name: str, value: Any) -> None:
        """Assign as usual, with two checks that keep :meth:`parameters` complete.

        - a :class:`Parameter` may only be replaced by a Parameter (or ``None``): assigning an
          array there would silently drop it. Change its values with
          ``module.name.data[...] = array``.
        - a plain list, tuple or dict holding modules or parameters is refused: its contents
          would go unseen. Hold modules in a :class:`ModuleList` or :class:`ModuleDict`.
        """
        old = self.__dict__.get(name)
        if isinstance(old, Parameter) and not (value is None or isinstance(value, Parameter)):
            raise TypeError(
                f"{type(self).__name__}.{name} is a Parameter; assign a Parameter, or change "
                f"its values with .{name}.data[...] = ..., not a {type(value).__name__}"
            )
        _check_not_hidden(self, name, value)
        object.__setattr__(self, name, value)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Return ``self.forward(*args, **kwargs)``."""
        return self.forward(*args, **kwargs)

    # -- structure -------------------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct sub-module, in assignment order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            else:
                _check_not_hidden(self, name, value)  # a list filled after assignment

    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter, this module's own first.

        A parameter reachable under two names is listed once, under the first.
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            pre, module = stack.pop()
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield pre + name, p
            children = [(pre + name + ".", child) for name, child in module.named_children()]
            stack.extend(reversed(children))

    def parameters(self) -> Iterator[Parameter]:
        """Iterate over all parameters, in the order of :meth:`named_parameters`.

        As in PyTorch, ``list(module.parameters())`` gives a list.
        """
        for _, p in self.named_parameters():
            yield p

    def modules(self) -> Iterator[Module]:
        """Iterate over this module and every module below it."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``)."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Switch this module and all below it to training mode (``False``: evaluation)."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (dropout off); the same as ``train(False)``."""
        return self.train(False)

    # -- state -----------------------------------------------------------------------------------

    #: Names of attributes holding plain arrays that are state but not trained (BatchNorm's
    #: running statistics): saved by :meth:`state_dict`, restored by :meth:`load_state_dict`.
    buffer_names: tuple[str, ...] = ()

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """``(dotted name, array)`` for every buffer of this module and those below it."""
        for name, module, attr in self._buffer_slots(prefix):
            yield name, getattr(module, attr)

    def _buffer_slots(self, prefix: str = "") -> Iterator[tuple[str, Module, str]]:
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            pre, module = stack.pop()
            for attr in module.buffer_names:
                yield pre + attr, module, attr
            children = [(pre + name + ".", child) for name, child in module.named_children()]
            stack.extend(reversed(children))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return a copy of every parameter's and buffer's values: ``{dotted name: array}``."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, np.array(b)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy ``state``'s arrays into the parameters of the same names.

        Every name and shape is checked first: missing or unexpected names, a shape that
        differs, NaN or inf values (also after conversion to the parameter's dtype: 1e300 does
        not fit a float32), or a non-numeric value raise ``KeyError``/``ValueError``/``TypeError``
        and leave every parameter unchanged. All values are converted (copied) before any is
        written, so ``state`` may hold the module's own arrays in any order. They are copied
        into the existing arrays (optimizers holding the parameters keep working); an array that
        a recorded graph still reads (read-only until its backward) is replaced by a new one
        instead, so that graph keeps the values it was recorded with.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping, got {type(state).__name__}")
        params: dict[str, Any] = dict(self.named_parameters())
        buffers = {name: (module, attr) for name, module, attr in self._buffer_slots()}
        params.update((name, getattr(m, attr)) for name, (m, attr) in buffers.items())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if missing or unexpected:
            raise KeyError(
                f"load_state_dict: names differ; missing {missing}, unexpected {unexpected}"
            )
        arrays = {}
        for name, p in params.items():
            value = state[name]
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"load_state_dict: {name!r} holds non-numeric dtype {arr.dtype}")
            if arr.shape != p.shape:
                raise ValueError(
                    f"load_state_dict: {name!r} has shape {arr.shape}, the parameter {p.shape}"
                )
            with np.errstate(over="ignore", invalid="ignore"):
                converted = np.array(arr, dtype=p.dtype)  # a copy: no alias of any param or buffer
            if converted.dtype.kind == "f" and not np.isfinite(converted).all():
                finite = arr.dtype.kind != "f" or np.isfinite(arr).all()
                bad = f"values too large for {converted.dtype}" if finite else "NaN or inf values"
                raise ValueError(f"load_state_dict: {name!r} holds {bad}")
            arrays[name] = converted
        for name, (module, attr) in buffers.items():  # a buffer takes its converted copy
            setattr(module, attr, arrays.pop(name))
            del params[name]
        for name, p in params.items():
            writable_data(p)[...] = arrays[name]

    def extra_repr(self) -> str:
        """Text shown inside this module's ``repr`` parentheses."""
        return ""

    def __repr__(self) -> str:
        """Return the module's name and settings, with one indented line per child."""
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


class Linear(Module):
    r"""An affine layer: y = x Wᵀ + b, W of shape (out_features, in_features).

    ∂E/∂W = ḡᵀ x (summed over the batch), ∂E/∂b = Σ ḡ, ∂E/∂x = ḡ W.

    Parameters
    ----------
    in_features, out_features
        Sizes of one input row and one output row.
    bias
        Whether to add the learnt bias b (shape ``(out_features,)``).
    init
        How to draw W: a name in :data:`INITIALISERS` (``"default"``: U(±1/√n_in) as PyTorch;
        ``"tutorial"``, ``"xavier"``, ``"he"``, ...) or a function ``(shape, rng) -> array``.
        The bias starts at zero, except with ``"default"`` where it is drawn like W.
    rng
        A NumPy ``Generator`` or a seed, for reproducible weights.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Callable[[tuple[int, int], Any], np.ndarray] = "default",
        rng: RngLike = None,
    ) -> None:
        super().__init__()
        for label, n in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {label} must be a positive integer, got {n!r}")
        if isinstance(init, str):
            if init not in INITIALISERS:
                raise ValueError(f"Linear: unknown init {init!r}; choose from {list(INITIALISERS)}")
            fn = INITIALISERS[init]
        elif callable(init):
            fn = init
        else:
            raise TypeError(f"Linear: init must be a name or a function, got {init!r}")
        gen = _rng(rng)
        shape = (int(out_features), int(in_features))
        w = np.asarray(fn(shape, gen), dtype=np.float64)
        if w.shape != shape:
            raise ValueError(f"Linear: init returned shape {w.shape}, expected {shape}")
        self.in_features, self.out_features = shape[1], shape[0]
        self.weight = Parameter(w)
        self.bias: Parameter | None = None
        if bias:
            a = 1.0 / math.sqrt(shape[1])
            b = gen.uniform(-a, a, shape[0]) if init == "default" else np.zeros(shape[0])
            self.bias = Parameter(b)

    def forward(self, x: Any) -> Tensor:
        """Return y = x Wᵀ + b (W x + b for a single sample)."""
        w = self.weight
        # one node either way: W x for a single sample, x Wᵀ (without a transpose node) for rows
        nd = x.ndim if isinstance(x, (np.ndarray, Tensor)) else np.ndim(x)
        try:
            y = w @ x if nd == 1 else _matmul_transposed(x, w)
        except ValueError:  # shapes that don't fit: say so in the layer's terms
            shape = x.shape if isinstance(x, (np.ndarray, Tensor)) else np.shape(x)
            raise ValueError(
                f"Linear: input of shape {shape} does not end in in_features={w.shape[1]} "
                f"(weight shape {w.shape})"
            ) from None
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        """Return the sizes and whether there is a bias."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sigmoid(Module):
    r"""o = σ(x) = 1 / (1 + e⁻ˣ);  ∂E/∂x = ∂E/∂o · o (1 − o)."""

    def forward(self, x: Any) -> Tensor:
        """Return σ(x)."""
        return x.sigmoid() if isinstance(x, Tensor) else Tensor(x).sigmoid()


class Tanh(Module):
    r"""o = tanh x;  ∂E/∂x = ∂E/∂o · (1 − o²)."""

    def forward(self, x: Any) -> Tensor:
        """Return tanh x."""
        return x.tanh() if isinstance(x, Tensor) else Tensor(x).tanh()


class ReLU(Module):
    r"""o = max(x, 0);  ∂E/∂x = ∂E/∂o · [x > 0]."""

    def forward(self, x: Any) -> Tensor:
        """Return max(x, 0)."""
        return x.relu() if isinstance(x, Tensor) else Tensor(x).relu()


class Dropout(Module):
    r"""Inverted dropout: y = x · m / (1 − p) in training, y = x in evaluation mode.

    The mask m ~ Bernoulli(1 − p) is drawn elementwise, so E[y] = x.

    ``p`` must be a real number (Python or NumPy, not a bool) in [0, 1). ``rng`` (a NumPy
    ``Generator`` or a seed) makes the masks reproducible. The mask has the input's floating
    dtype, so float32 activations stay float32.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        super().__init__()
        real = isinstance(p, numbers.Real) and not isinstance(p, (bool, np.bool_))
        if not real or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a real number in [0, 1), got {p!r}")
        self.p = float(p)
        self._gen = _rng(rng)

    def forward(self, x: Any) -> Any:
        """Return x · m / (1 − p) with a fresh mask m in training, x itself otherwise."""
        if not self.training or self.p == 0.0:
            return x
        x = x if isinstance(x, Tensor) else Tensor(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        keep = self._gen.random(x.shape) >= self.p
        return x * (keep.astype(dtype) / dtype.type(1.0 - self.p))

    def extra_repr(self) -> str:
        """Return the drop probability."""
        return f"p={self.p}"


class ModuleList(Module):
    """Sub-modules held in a list: ``ModuleList([a, b])``; their parameters are the list's.

    Indexable (``mods[0]``, ``mods[-1]``; a slice gives a new ``ModuleList`` sharing the
    modules), assignable by index, iterable and sized, with ``append`` and ``extend``.
    Parameter names are prefixed by position: ``"0.weight"``. It has no ``forward``: the
    module holding it decides how its items are applied.
    """

    _items: list[Module]

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        if isinstance(modules, Module):
            raise TypeError(f"{type(self).__name__}: expected an iterable of modules, got one")
        object.__setattr__(self, "_items", [])
        self.extend(modules)

    def _checked(self, m: Any, where: Any) -> Module:
        if not isinstance(m, Module):
            raise TypeError(
                f"{type(self).__name__}: item {where} is a {type(m).__name__}, not a Module"
            )
        return m

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns the list itself."""
        self._items.append(self._checked(module, len(self._items)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add every module of ``modules`` at the end (all are checked before any is added)."""
        new = [self._checked(m, len(self._items) + i) for i, m in enumerate(modules)]
        self._items.extend(new)
        return self

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(position, module)`` for each item, positions as strings."""
        for i, m in enumerate(self._items):
            yield str(i), m

    def __getitem__(self, index: int | slice) -> Any:
        """Return the module at ``index``, or a ``ModuleList`` of a slice's modules."""
        if isinstance(index, slice):
            return ModuleList(self._items[index])
        try:
            return self._items[index]
        except IndexError:
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for "
                f"{len(self._items)} modules"
            ) from None

    def __setitem__(self, index: int, module: Module) -> None:
        """Put ``module`` at ``index`` (which must exist)."""
        self._checked(module, index)
        try:
            self._items[index] = module
        except IndexError:
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for "
                f"{len(self._items)} modules"
            ) from None

    def __len__(self) -> int:
        """Return the number of modules."""
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        """Iterate over the modules, in order."""
        return iter(self._items)


class Sequential(ModuleList):
    """Modules applied in order: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    A :class:`ModuleList` with a ``forward``: indexable (``net[0]``; a slice gives a new
    ``Sequential`` sharing the modules), iterable and sized. Parameter names are prefixed by
    position: ``"0.weight"``.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        """Apply each module in turn to the previous one's output."""
        for m in self._items:
            x = m(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        """Return the module at ``index``, or a ``Sequential`` of a slice's modules."""
        if isinstance(index, slice):
            return Sequential(*self._items[index])
        return super().__getitem__(index)


class ModuleDict(Module):
    """Sub-modules held by name: ``ModuleDict({"encoder": a, "decoder": b})``.

    ``mods["encoder"]``, ``mods[name] = module``, ``in``, ``len``, iteration over the names,
    ``keys()``, ``values()``, ``items()``, in insertion order. Parameter names are prefixed by
    the key: ``"encoder.weight"``. Keys are non-empty strings without dots.
    """

    _items: dict[str, Module]

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_items", {})
        if modules is not None:
            if not isinstance(modules, Mapping):
                raise TypeError(
                    f"ModuleDict: expected a mapping of names to modules, got "
                    f"{type(modules).__name__}"
                )
            for key, m in modules.items():
                self._check(key, m)
            self._items.update(modules)

    @staticmethod
    def _check(key: Any, m: Any) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        if not isinstance(m, Module):
            raise TypeError(f"ModuleDict: {key!r} is a {type(m).__name__}, not a Module")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(key, module)`` for each item, in insertion order."""
        yield from self._items.items()

    def __getitem__(self, key: str) -> Module:
        """Return the module under ``key``."""
        try:
            return self._items[key]
        except KeyError:
            raise KeyError(f"ModuleDict: no module {key!r}; it has {list(self._items)}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        """Hold ``module`` under ``key`` (a non-empty string without dots)."""
        self._check(key, module)
        self._items[key] = module

    def __contains__(self, key: object) -> bool:
        """Return whether a module is held under ``key``."""
        return key in self._items

    def __len__(self) -> int:
        """Return the number of modules."""
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the keys, in insertion order."""
        return iter(self._items)

    def keys(self) -> Iterator[str]:
        """Iterate over the keys, in insertion order."""
        return iter(self._items)

    def values(self) -> Iterator[Module]:
        """Iterate over the modules, in insertion order."""
        return iter(self._items.values())

    def items(self) -> Iterator[tuple[str, Module]]:
        """Iterate over ``(key, module)`` pairs, in insertion order."""
        return iter(self._items.items())


def clip_grad_norm(parameters: Iterable[Tensor] | Tensor, max_norm: float) -> float:
    r"""Scale the gradients in place so that their joint 2-norm is at most ``max_norm``.

    With n = √(Σ_p ‖∂E/∂p‖²) over every parameter that has a ``.grad``, each gradient is
    multiplied by min(1, max_norm / (n + 10⁻⁶)) (PyTorch's ``clip_grad_norm_``). Returns n, the
    norm before clipping. A NaN or infinite norm is a ``ValueError`` and changes nothing.
    """
    if isinstance(max_norm, bool) or not isinstance(
        max_norm, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"clip_grad_norm: max_norm must be a real number, got {max_norm!r}")
    if not (math.isfinite(max_norm) and max_norm >= 0):
        raise ValueError(f"clip_grad_norm: max_norm must be finite and >= 0, got {max_norm!r}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm: parameter {i} is a {type(p).__name__}, not a Tensor")
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(math.fsum(float(np.vdot(g.data, g.data)) for g in grads))
    if not math.isfinite(norm):
        raise ValueError(
            f"clip_grad_norm: the gradients' norm is {norm}; nothing was scaled (look for the "
            "NaN or inf gradient first)"
        )
    coef = float(max_norm) / (norm + 1e-6)
    if coef < 1.0:
        for p in params:
            g = p.grad
            if g is None:
                continue
            if not g.is_leaf:  # recorded with create_graph: the clipped gradient is a new leaf
                p.grad = g = g.detach()
            data = writable_data(g)
            data *= coef
    return norm


# -- convolution, pooling, embedding, normalisation and more activations --------------------------


def _uniform_fan_in(gen: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    r"""U(−1/√fan_in, 1/√fan_in): PyTorch's kaiming_uniform(a=√5) for weights, and its bias."""
    a = 1.0 / math.sqrt(fan_in)
    return gen.uniform(-a, a, shape)


def _positive_int(layer: str, name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {n!r}")
    return int(n)


class Conv2d(Module):
    r"""A 2-D convolution layer (cross-correlation, NCHW): y = conv2d(x, W, b, stride, padding).

    W has shape (out_channels, in_channels, kh, kw) and b (out_channels,), both drawn from
    U(±1/√(in_channels · kh · kw)), PyTorch's default; ``kernel_size``, ``stride`` and
    ``padding`` are ints or pairs.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        bias: bool = True,
        rng: RngLike = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size", 1)
        self.stride = pair(stride, "Conv2d", "stride", 1)
        self.padding = pair(padding, "Conv2d", "padding", 0)
        gen = _rng(rng)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(_uniform_fan_in(gen, shape, fan_in))
        self.bias: Parameter | None = None
        if bias:
            self.bias = Parameter(_uniform_fan_in(gen, (self.out_channels,), fan_in))

    def forward(self, x: Any) -> Tensor:
        """Return conv2d(x, W, b) for x of shape (N, in_channels, H, W)."""
        shape = np.shape(x.data if isinstance(x, Tensor) else x)
        wshape = self.weight.shape
        if len(shape) == 4 and shape[1] != self.in_channels:
            raise ValueError(
                f"{self!r}: input of shape {shape} has {shape[1]} channels, expected "
                f"in_channels={self.in_channels} (weight shape {wshape})"
            )
        try:
            y: Tensor = conv2d(x, self.weight, self.bias, self.stride, self.padding)
        except ValueError as exc:
            raise ValueError(f"{self!r}: {exc} (weight shape {wshape})") from None
        return y

    def extra_repr(self) -> str:
        """Return the channels, kernel size, stride, padding and whether there is a bias."""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}"
        )


class MaxPool2d(Module):
    r"""The maximum of each window: y = max_pool2d(x, kernel_size, stride).

    The stride defaults to the kernel size (windows that do not overlap).
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: Any = None) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "MaxPool2d", "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "MaxPool2d", "stride", 1)

    def forward(self, x: Any) -> Tensor:
        """Return the maximum of each window of x (N, C, H, W)."""
        y: Tensor = max_pool2d(x, self.kernel_size, self.stride)
        return y

    def extra_repr(self) -> str:
        """Return the kernel size and stride."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class AvgPool2d(MaxPool2d):
    r"""The mean of each window: y = avg_pool2d(x, kernel_size, stride).

    The stride defaults to the kernel size (windows that do not overlap).
    """

    def forward(self, x: Any) -> Tensor:
        """Return the mean of each window of x (N, C, H, W)."""
        y: Tensor = avg_pool2d(x, self.kernel_size, self.stride)
        return y


class Flatten(Module):
    r"""y = x reshaped to (N, −1): every axis but the first joined into one."""

    def forward(self, x: Any) -> Tensor:
        """Return x reshaped to (N, −1)."""
        t = x if isinstance(x, Tensor) else Tensor(x)
        return t.reshape(t.shape[0], -1)


class Embedding(Module):
    r"""A lookup table: y = W[indices], W of shape (num_embeddings, embedding_dim).

    W is drawn from N(0, 1) as in PyTorch; ∂E/∂W scatter-adds ḡ into the rows looked up
    (repeats accumulate).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng: RngLike = None) -> None:
        super().__init__()
        self.num_embeddings = _positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _positive_int("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(_rng(rng).standard_normal((num_embeddings, embedding_dim)))

    def forward(self, indices: Any) -> Tensor:
        """Return W[indices] for integer indices in [0, num_embeddings)."""
        idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{self!r}: indices must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx.max() if idx.max() >= self.num_embeddings else idx.min()
            raise IndexError(
                f"{self!r}: index {bad} is out of range [0, {self.num_embeddings}) (indices "
                f"shape {idx.shape}, weight shape {self.weight.shape})"
            )
        return self.weight[idx]

    def extra_repr(self) -> str:
        """Return the table's size."""
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _normalise(x: Tensor, mean: Any, var: Any, eps: float) -> Tensor:
    r"""Return x̂ = (x − μ) / √(σ² + ε)."""
    out: Tensor = (x - mean) / (var + eps) ** 0.5
    return out


class LayerNorm(Module):
    r"""Layer normalisation: y = (x − μ) / √(σ² + ε) · γ + β.

    μ and σ² (biased) are taken over the trailing ``normalized_shape`` axes of each sample;
    γ = 1 and β = 0 at first, of that shape.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(
            _positive_int("LayerNorm", "normalized_shape", n) for n in shape
        )
        self.eps = float(eps)
        self.weight = Parameter(np.ones(self.normalized_shape))
        self.bias = Parameter(np.zeros(self.normalized_shape))

    def forward(self, x: Any) -> Tensor:
        """Return (x − μ) / √(σ² + ε) · γ + β over the trailing axes."""
        t = x if isinstance(x, Tensor) else Tensor(x)
        k = len(self.normalized_shape)
        if t.shape[t.ndim - k :] != self.normalized_shape or t.ndim < k:
            raise ValueError(
                f"{self!r}: input of shape {t.shape} does not end in {self.normalized_shape} "
                f"(weight shape {self.weight.shape})"
            )
        axes = tuple(range(t.ndim - k, t.ndim))
        mean = t.mean(axis=axes, keepdims=True)
        d = t - mean
        return (
            d / ((d * d).mean(axis=axes, keepdims=True) + self.eps) ** 0.5 * self.weight + self.bias
        )

    def extra_repr(self) -> str:
        """Return the normalised shape and ε."""
        return f"{self.normalized_shape}, eps={self.eps}"


class _BatchNorm(Module):
    """The forward, state and checks shared by :class:`BatchNorm1d` and :class:`BatchNorm2d`.

    ``dims`` holds the input ranks a subclass accepts.
    """

    buffer_names = ("running_mean", "running_var", "num_batches_tracked")
    dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(name, "num_features", num_features)
        if (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not 0 <= momentum <= 1
        ):
            raise ValueError(f"{name}: momentum must be a number in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.weight = Parameter(np.ones(num_features))
        self.bias = Parameter(np.zeros(num_features))
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = np.array(0, dtype=np.int64)

    def forward(self, x: Any) -> Tensor:
        """Normalise x by the batch's statistics (training) or the running ones (evaluation)."""
        t = x if isinstance(x, Tensor) else Tensor(x)
        if t.ndim not in self.dims or t.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: input of shape {t.shape} must have {' or '.join(map(str, self.dims))} "
                f"axes with num_features={self.num_features} channels on axis 1 (weight shape "
                f"{self.weight.shape})"
            )
        axes = (0, *range(2, t.ndim))
        shape = (1, self.num_features) + (1,) * (t.ndim - 2)
        w, b = self.weight.reshape(shape), self.bias.reshape(shape)
        if not self.training:
            rm, rv = self.running_mean.reshape(shape), self.running_var.reshape(shape)
            return _normalise(t, rm, rv, self.eps) * w + b
        n = t.size // self.num_features
        if n < 2:
            raise ValueError(
                f"{self!r}: training needs more than one value per channel, got input shape "
                f"{t.shape}"
            )
        mean = t.mean(axis=axes, keepdims=True)
        d = t - mean
        var = (d * d).mean(axis=axes, keepdims=True)
        m = self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * mean.data.reshape(-1)
        self.running_var = (1 - m) * self.running_var + m * var.data.reshape(-1) * n / (n - 1)
        self.num_batches_tracked = self.num_batches_tracked + 1
        return d / (var + self.eps) ** 0.5 * w + b

    def extra_repr(self) -> str:
        """Return the number of channels, ε and the momentum."""
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    r"""Batch normalisation of (N, C) or (N, C, L) inputs: y = (x − μ) / √(σ² + ε) · γ + β.

    μ and σ² are per channel (axis 1), over every other axis; the running statistics and the
    state are as in :class:`BatchNorm2d`.
    """

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    r"""Batch normalisation of (N, C, H, W) inputs: y = (x − μ) / √(σ² + ε) · γ + β.

    In training μ and σ² (biased) are each channel's over N, H and W, and the running
    statistics move by ``momentum``: r_μ ← (1 − m) r_μ + m μ, r_σ² ← (1 − m) r_σ² + m σ² n/(n − 1)
    (unbiased); in evaluation mode the running statistics are used instead. γ = 1, β = 0,
    r_μ = 0, r_σ² = 1 at first; ``running_mean``, ``running_var`` and ``num_batches_tracked``
    are in ``state_dict``.
    """

    dims = (4,)


class LeakyReLU(Module):
    r"""o = x for x > 0, s · x otherwise (s = ``negative_slope``)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Tensor:
        """Return x where x > 0, s · x elsewhere."""
        y: Tensor = leaky_relu(x, self.negative_slope)
        return y

    def extra_repr(self) -> str:
        """Return the negative slope."""
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    r"""o = log(1 + eˣ);  ∂E/∂x = ∂E/∂o · σ(x)."""

    def forward(self, x: Any) -> Tensor:
        """Return log(1 + eˣ)."""
        y: Tensor = softplus(x)
        return y


class ELU(Module):
    r"""o = x for x > 0, α (eˣ − 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Tensor:
        """Return x where x > 0, α (eˣ − 1) elsewhere."""
        y: Tensor = elu(x, self.alpha)
        return y

    def extra_repr(self) -> str:
        """Return α."""
        return f"alpha={self.alpha}"
