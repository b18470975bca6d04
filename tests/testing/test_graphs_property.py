"""Property test: backward agrees with finite differences on random programs from graphs()."""

from __future__ import annotations

from hypothesis import given, settings

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
