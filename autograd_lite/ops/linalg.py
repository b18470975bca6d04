r"""Matrix products.

For o = a @ b with a of shape (…, m, k) and b of shape (…, k, n):

    ∂E/∂a = ḡ @ bᵀ,    ∂E/∂b = aᵀ @ ḡ,

with batch axes summed back by the engine. A 1-D ``a`` is treated as a row (1, k) and a 1-D
``b`` as a column (k, 1), as NumPy does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..engine import Op
from .checks import Call, Checks, Example, Form, normal
from .recording import Sizes, apply, binary_args, is_plain, shape_of

if TYPE_CHECKING:
    from ..tensor import Tensor


def _swap_last(v: Any) -> Any:
    nd = v.ndim
    return v.T if nd == 2 else v.transpose((*range(nd - 2), nd - 1, nd - 2))


def _mm(x: Any, y: Any) -> Any:
    """Return x @ y.

    For plain 1-D/2-D arrays it goes through ``np.dot``, whose BLAS call is also fast for the
    rank-1 (outer) products of batch-1 training, where ``np.matmul`` takes a loop several times
    slower.
    """
    if type(x) is np.ndarray and type(y) is np.ndarray and 0 < x.ndim <= 2 and 0 < y.ndim <= 2:
        return np.dot(x, y)
    return x @ y


def _outer(u: Any, v: Any) -> Any:
    """Return u vᵀ for vectors u and v, through ``_mm`` (one BLAS call for plain arrays)."""
    return _mm(u.reshape((u.shape[0], 1)), v.reshape((1, v.shape[0])))


def _weight_gradient(a: Any, g: Any, b: Any) -> Any:
    """aᵀ @ g, in the memory layout of ``b``.

    When ``b`` is a transposed view (``x @ w.T``, as in every linear layer), the gradient is
    computed as (gᵀ @ a)ᵀ so that undoing the transpose gives ``w`` a C-contiguous gradient.
    """
    if (
        a.ndim == 2
        and g.ndim == 2
        and is_plain(b)
        and b.ndim == 2
        and b.flags.f_contiguous
        and not b.flags.c_contiguous
    ):
        return _mm(g.T, a).T
    return _mm(_swap_last(a), g)


class MatMul(Op):
    r"""o = a @ b;  ∂E/∂a = ḡ @ bᵀ,  ∂E/∂b = aᵀ @ ḡ.

    With ``transpose_b=True`` it is o = a @ bᵀ in one node (a linear layer's x Wᵀ): the rule
    runs on the transposed view and hands back ∂E/∂b = (aᵀ @ ḡ)ᵀ = ḡᵀ @ a, in b's own layout.
    """

    __slots__ = ("transpose_b",)
    keeps = (0, 1)
    keeps_out = False
    crossed = True

    checks: ClassVar[Checks] = Checks(
        examples=(
            Example("MatMul", lambda r: (lambda a, b: a @ b, [normal(r, 3, 4), normal(r, 4, 2)])),
            Example(
                "MatMul (batched)",
                lambda r: (lambda a, b: a @ b, [normal(r, 2, 2, 3), normal(r, 3, 2)]),
            ),
            Example(
                "MatMul (vector)", lambda r: (lambda a, b: a @ b, [normal(r, 3), normal(r, 3, 2)])
            ),
            Example("MatMul (dot)", lambda r: (lambda a, b: a @ b, [normal(r, 4), normal(r, 4)])),
            Example(
                "MatMul (b transposed, as in Linear)",
                lambda r: (matmul_transposed, [normal(r, 3, 4), normal(r, 5, 4)]),
            ),
            Example(
                "MatMul (batched a, b transposed)",
                lambda r: (matmul_transposed, [normal(r, 2, 3, 4), normal(r, 5, 4)]),
            ),
        ),
        forms=(
            Form(
                "{0} @ {1}",
                lambda x, y: x @ y,
                inputs="matmul",
                graph=Call(
                    tensors=2, new=lambda s, pick: (s[-1], pick(1, 3)), ndim=(1, 8), max_size=12
                ),
            ),
        ),
    )

    def __init__(self, transpose_b: bool = False) -> None:
        self.transpose_b = transpose_b

    def forward(self, a: np.ndarray, b: np.ndarray) -> Any:
        r"""Return o = a @ b."""
        if self.transpose_b:
            if b.ndim < 2:
                raise ValueError(f"matmul: transpose_b needs a matrix, got shape {b.shape}")
            b = _swap_last(b)
        try:
            return _mm(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {shape_of(a)} and {shape_of(b)} are not aligned"
            ) from None

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        r"""Return ∂E/∂a = ḡ @ bᵀ, ∂E/∂b = aᵀ @ ḡ."""
        if self.transpose_b:
            if a.ndim == 2 and b.ndim == 2:  # o = a bᵀ:  ∂E/∂a = ḡ b,  ∂E/∂b = ḡᵀ a (b's layout)
                needs = self.needs
                return (_mm(g, b) if needs[0] else None), (
                    _mm(_swap_last(g), a) if needs[1] else None
                )
            ga, gb = self._rule(g, a, _swap_last(b))
            return ga, (None if gb is None else _swap_last(gb))
        return self._rule(g, a, b)

    def rule(self) -> str:
        """Return this node's rule, with its parameters and (while it holds them) its shapes."""
        s = Sizes(self)
        a_nd, b_nd = (len(s.shapes[0]), len(s.shapes[1])) if s.shapes else (2, 2)
        ga, gb = f"∂E/∂a{s(0)} =", f"∂E/∂b{s(1)} ="
        batch = s.shapes and np.broadcast_shapes(s.shapes[0][:-2], s.shapes[1][:-2])
        summed = [
            " summed over the batch axes" if batch and batch != x[:-2] else ""
            for x in (s.shape(0) or (), s.shape(1) or ())
        ]
        if self.transpose_b:
            if a_nd == 1:
                return f"o = a @ bᵀ; {ga} ḡ{s(2)} @ b{s(1)}, {gb} ḡ{s(2)} ⊗ a{s(0)}."
            return (
                f"o = a @ bᵀ; {ga} ḡ{s(2)} @ b{s(1)}{summed[0]}, "
                f"{gb} ḡᵀ{s(2, T=True)} @ a{s(0)}{summed[1]}."
            )
        if a_nd == 1 and b_nd == 1:
            return f"o = a · b (dot product); {ga} ḡ{s(2)} · b{s(1)}, {gb} ḡ{s(2)} · a{s(0)}."
        if b_nd == 1:
            return (
                f"o = a @ b (b a column); {ga} ḡ{s(2)} ⊗ b{s(1)}, "
                f"{gb} aᵀ{s(0, T=True)} @ ḡ{s(2)}{summed[1]}."
            )
        if a_nd == 1 and b_nd > 2:
            return f"o = a @ b (a a row); {ga} Σ over batches of bₖ @ ḡₖ, {gb} a ⊗ ḡₖ in batch k."
        if a_nd == 1:
            return f"o = a @ b (a a row); {ga} b{s(1)} @ ḡ{s(2)}, {gb} a{s(0)} ⊗ ḡ{s(2)}."
        return (
            f"o = a @ b; {ga} ḡ{s(2)} @ bᵀ{s(1, T=True)}{summed[0]}, "
            f"{gb} aᵀ{s(0, T=True)} @ ḡ{s(2)}{summed[1]}."
        )

    def _rule(self, g: Any, a: Any, b: Any) -> tuple[Any, Any]:
        needs = self.needs
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if needs[0] else None), (g * a if needs[1] else None)
        if a.ndim == 2 and b.ndim == 1:  # o = A b:  ∂E/∂A = ḡ bᵀ,  ∂E/∂b = Aᵀ ḡ
            return (_outer(g, b) if needs[0] else None), (_mm(g, a) if needs[1] else None)
        if a.ndim == 1 and b.ndim == 2:  # o = a B:  ∂E/∂a = B ḡ,  ∂E/∂B = a ḡᵀ
            return (_mm(b, g) if needs[0] else None), (_outer(a, g) if needs[1] else None)
        a2 = a.reshape((1, a.shape[0])) if a.ndim == 1 else a
        b2 = b.reshape((b.shape[0], 1)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1, g2.shape[-1]))
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = gb = None
        if needs[0]:
            ga = _mm(g2, _swap_last(b2))
        if needs[1]:
            gb = _weight_gradient(a2, g2, b2)
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb


def matmul(a: Any, b: Any) -> Tensor:
    """Return the matrix product ``a @ b`` (NumPy's rules for 1-D and batched operands)."""
    return apply(MatMul(), *binary_args("matmul", a, b))


def matmul_transposed(a: Any, b: Any) -> Tensor:
    """Return ``a @ b.T`` as one node (a linear layer's x Wᵀ).

    No transpose node is recorded, and the gradient of ``b`` comes back in ``b``'s own layout.
    """
    return apply(MatMul(transpose_b=True), *binary_args("matmul", a, b))
