"""Custom ops shared by the tests (a plain module beside them, like ``numeric.py``)."""

from __future__ import annotations

import autograd_lite as al


class Cube(al.Function):
    r"""o = x³;  ∂E/∂x = 3 x² ḡ."""  # its input is saved; test_viz reads this rule

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad
