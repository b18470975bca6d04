"""Ops with planted errors (and their right versions) shared by the checker's own tests."""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite import ops


class OffByOnePercentMul(ops.Mul):
    """a·b whose rule for a is 1 % too large (a uniform scale error)."""

    __slots__ = ()

    def backward(self, g, out, a, b):
        ga, gb = super().backward(g, out, a, b)
        return ga * 1.01, gb


class NanRule(al.Function):
    """o = 2x, with a rule that returns nan."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * np.nan


class Square(al.Function):
    """o = x²; ∂E/∂x = 2x ḡ."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x


class OneElementOff(Square):
    """x², with a rule 1 % too large in element 0 only."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        factor = np.ones(x.shape)
        factor.flat[0] = 1.01
        return grad * 2 * x * al.Tensor(factor)


class SquareNanCurvature(Square):
    """x², with the right first-order rule 2x ḡ whose own derivative is nan
    (it is NanRule's first-order rule)."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * NanRule.apply(x)
