r"""A custom operation, checked against finite differences.

``Softplus``: s(x) = log(1 + eˣ), with s'(x) = σ(x). Its ``backward`` is written with Tensor
operations, so it is itself differentiable (``create_graph=True``) and ``gradgradcheck`` can
check the second derivative s''(x) = σ(x)(1 − σ(x)) too.

Run: ``python examples/custom_op.py``.
"""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite.testing import gradcheck, gradgradcheck


class Softplus(al.Function):
    r"""s(x) = log(1 + eˣ), computed stably as max(x, 0) + log(1 + e^{−|x|}); ∂E/∂x = ḡ · σ(x)."""

    @staticmethod
    def forward(ctx: al.Context, x: al.Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        a = x.data
        return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))

    @staticmethod
    def backward(ctx: al.Context, grad: al.Tensor) -> al.Tensor:
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


def main(quick: bool = False) -> bool:
    """Check Softplus's first and second derivatives; return True when both agree."""
    rng = np.random.default_rng(0)
    x = al.Tensor(rng.normal(size=(3, 4)) * 3, requires_grad=True)
    first = gradcheck(Softplus.apply, (x,))
    second = gradgradcheck(Softplus.apply, (x,))
    print(f"gradcheck: {first}, gradgradcheck: {second}")

    # the same value as the built-in ops give, and a tell-tale failure for a wrong rule
    reference = (1 + x.exp()).log()
    np.testing.assert_allclose(Softplus.apply(x).data, reference.data, rtol=1e-12)

    class WrongSoftplus(Softplus):
        @staticmethod
        def backward(ctx: al.Context, grad: al.Tensor) -> al.Tensor:
            (x,) = ctx.saved_tensors
            return grad * x.sigmoid() * 1.01  # off by 1 %

    caught = not gradcheck(WrongSoftplus.apply, (x,), raise_exception=False)
    print(f"a rule off by 1 % is caught: {caught}")
    assert first and second and caught
    return True


if __name__ == "__main__":
    main()
