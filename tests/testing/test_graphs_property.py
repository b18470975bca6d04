"""Property tests on random programs from graphs(): backward agrees with finite differences, and
no two leaves' gradients share memory."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite.testing import check_gradients
from autograd_lite.testing.strategies import graphs

# at least 200 examples under the ci profile, more under the thorough one
EXAMPLES = max(200, settings().max_examples)


@settings(max_examples=EXAMPLES)
@given(graphs())
def test_gradcheck_holds_on_random_programs(graph):
    fn, inputs = graph
    report = check_gradients(fn, inputs)
    assert report.passed, f"{fn!r}\n{report}"
    assert not report.kinks, f"graphs() drew a program at a kink:\n{fn!r}\n{report}"


@settings(max_examples=EXAMPLES)
@given(graphs(), st.booleans())
def test_no_two_leaves_share_gradient_memory(graph, create_graph):
    """Every pair of leaves in a random program gets gradients in separate memory, apart from
    the seed and the inputs' data too (first order, and with ``create_graph``)."""
    fn, inputs = graph
    leaves = [al.Tensor(t.data.copy(), requires_grad=t.requires_grad) for t in inputs]
    out = fn(*leaves)
    seed = np.ones(out.shape)
    out.backward(seed, create_graph=create_graph)
    grads = [x.grad.data for x in leaves if x.grad is not None]
    assert grads, "graphs() always draws an input that requires grad"
    for i, g in enumerate(grads):
        assert create_graph or g.flags.writeable
        for other in [*grads[i + 1 :], seed, *(x.data for x in leaves)]:
            assert not np.shares_memory(g, other), repr(fn)
