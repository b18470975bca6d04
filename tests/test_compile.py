"""``al.compile``: a traced, replayed step gives what eager execution gives, and says when it can't.

Every comparison runs the same step twice from the same starting state, once eagerly and once
compiled, over several calls (the first traces, the later ones replay), and checks the results,
the gradients left in ``.grad`` and the updated parameters to 1e-12 relative in float64.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from custom_ops import Cube
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite.layers import (
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)
from autograd_lite.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from autograd_lite.testing.strategies import graphs
from autograd_lite.tutorial import NeuralNetwork

RTOL = 1e-12


def close(a, b) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=1e-300)


def same_state(m1, m2) -> None:
    for (n1, p1), (n2, p2) in zip(m1.named_parameters(), m2.named_parameters(), strict=True):
        assert n1 == n2
        close(p1.data, p2.data)
        assert (p1.grad is None) == (p2.grad is None), n1
        if p1.grad is not None:
            close(p1.grad.data, p2.grad.data)


def training_step(model, opt, loss_fn):
    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def twins(make_model, make_opt):
    m1 = make_model()
    m2 = copy.deepcopy(m1)
    return (m1, make_opt(m1)), (m2, make_opt(m2))


def compare(make_model, make_opt, loss_fn, batches, calls=4):
    (m1, o1), (m2, o2) = twins(make_model, make_opt)
    eager = training_step(m1, o1, loss_fn)
    compiled = al.compile(training_step(m2, o2, loss_fn))
    for k in range(calls):
        x, y = batches[k % len(batches)]
        close(eager(x, y).data, compiled(x, y).data)
        same_state(m1, m2)
    return compiled


def mlp(n_in=4, n_hidden=5, n_out=3, act=Sigmoid):
    rng = np.random.default_rng(0)

    def make():
        m = Sequential(Linear(n_in, n_hidden), act(), Linear(n_hidden, n_out))
        for p in m.parameters():
            p.data[...] = rng.normal(size=p.shape)
        return m

    return make


def regression_batches(n, n_in=4, n_out=3, count=3, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))) for _ in range(count)]


def class_batches(n, n_in=4, classes=3, count=3, seed=2):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, n_in)), rng.integers(0, classes, n)) for _ in range(count)]


# -- the tutorial's step ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 64])
def test_tutorial_network_compiled_equals_eager(batch):
    rng = np.random.default_rng(3)
    eager = NeuralNetwork(6, 3, 5, 0.2, rng=0)
    compiled = NeuralNetwork(6, 3, 5, 0.2, rng=0, compiled=True)
    for _ in range(5):
        x = rng.uniform(0.01, 0.99, (batch, 6)) if batch > 1 else rng.uniform(0.01, 0.99, 6)
        t = rng.uniform(0.01, 0.99, x.shape[:-1] + (3,))
        assert eager.train(x, t) == pytest.approx(compiled.train(x, t), rel=RTOL)
        close(eager.wih, compiled.wih)
        close(eager.who, compiled.who)
    assert compiled._step.traces == 1  # the network drops its gradients after each step


def test_tutorial_network_with_bias_nodes_compiled_equals_eager():
    rng = np.random.default_rng(4)
    eager = NeuralNetwork(4, 2, 3, 0.3, bias=1, rng=1)
    compiled = NeuralNetwork(4, 2, 3, 0.3, bias=1, rng=1, compiled=True)
    for _ in range(4):
        x, t = rng.uniform(size=4), rng.uniform(size=2)
        assert eager.train(x, t) == pytest.approx(compiled.train(x, t), rel=RTOL)
    close(eager.wih, compiled.wih)
    close(eager.who, compiled.who)


def test_compiled_tutorial_refuses_the_tutorial_rule():
    with pytest.raises(ValueError, match="compiled=True"):
        NeuralNetwork(2, 2, 2, 0.1, update="tutorial", compiled=True)


# -- networks, losses, optimizers ---------------------------------------------------------------


def test_custom_network_with_adam_and_cross_entropy():
    compiled = compare(
        mlp(act=Tanh), lambda m: Adam(m.parameters(), lr=0.01), al.cross_entropy,
        class_batches(8), calls=6,
    )  # fmt: skip
    assert "cross_entropy" in compiled.source or "CrossEntropy" in compiled.source


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda m: SGD(m.parameters(), lr=0.1),
        lambda m: SGD(m.parameters(), lr=0.1, momentum=0.9),
        lambda m: SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda m: Adam(m.parameters(), lr=0.01, weight_decay=0.1),
        lambda m: AdamW(m.parameters(), lr=0.01),
        lambda m: RMSprop(m.parameters(), lr=0.01, momentum=0.5),
        lambda m: Adagrad(m.parameters(), lr=0.1),
    ],
    ids=["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"],
)
def test_every_optimizer_compiled_equals_eager(make_opt):
    compare(mlp(act=ReLU), make_opt, al.mse_loss, regression_batches(5), calls=5)


@pytest.mark.parametrize(
    "loss_fn",
    [al.squared_error, al.mse_loss, al.l1_loss, al.huber_loss],
    ids=["squared_error", "mse", "l1", "huber"],
)
def test_losses_compiled_equal_eager(loss_fn):
    compare(mlp(), lambda m: SGD(m.parameters(), lr=0.05), loss_fn, regression_batches(6))


def test_convolutional_network_compiled_equals_eager():
    rng = np.random.default_rng(5)

    def make():
        m = Sequential(Conv2d(1, 2, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(8, 3))
        for p in m.parameters():
            p.data[...] = rng.normal(size=p.shape) * 0.5
        return m

    batches = [(rng.normal(size=(4, 1, 4, 4)), rng.integers(0, 3, 4)) for _ in range(3)]
    compare(make, lambda m: Adam(m.parameters(), lr=0.01), al.cross_entropy, batches)


def test_softplus_logsumexp_and_avg_pool_compiled_equal_eager():
    rng = np.random.default_rng(6)
    w = al.Tensor(rng.normal(size=(2, 1, 2, 2)), requires_grad=True)
    w2 = al.Tensor(w.data.copy(), requires_grad=True)

    def make_step(w):
        def step(x):
            h = al.avg_pool2d(al.softplus(al.conv2d(x, w, padding=1)), 2)
            loss = al.logsumexp(h.reshape(h.shape[0], -1), axis=-1).sum()
            w.grad = None
            loss.backward()
            return loss, w.grad

        return step

    eager, compiled = make_step(w), al.compile(make_step(w2))
    for _ in range(3):
        x = rng.normal(size=(3, 1, 4, 4))
        (l1, g1), (l2, g2) = eager(x), compiled(x)
        close(l1.data, l2.data)
        close(g1.data, g2.data)


@settings(max_examples=30, deadline=None)
@given(graphs(), st.integers(0, 2**32 - 1))
def test_random_programs_with_a_backward_compiled_equal_eager(graph, seed):
    fn, inputs = graph
    rng = np.random.default_rng(seed)

    def step(*xs):
        for x in xs:
            x.grad = None
        out = fn(*xs)
        if not out.requires_grad:
            return (out,)
        out.backward(np.ones(out.shape))
        return (out, *[x.grad for x in xs if x.requires_grad and x.grad is not None])

    compiled = al.compile(step)
    for k in range(3):  # the trace, then replays on new values of the same shapes
        values = [
            t.data if k == 0 else t.data + 0.01 * rng.standard_normal(t.shape) for t in inputs
        ]
        eager_in = [al.Tensor(v, requires_grad=t.requires_grad) for v, t in zip(values, inputs)]
        comp_in = [
            al.Tensor(v.copy(), requires_grad=t.requires_grad) for v, t in zip(values, inputs)
        ]
        want, got = step(*eager_in), compiled(*comp_in)
        assert len(want) == len(got)
        for a, b in zip(want, got):
            np.testing.assert_allclose(b.data, a.data, rtol=1e-10, atol=1e-12)
        for a, b in zip(eager_in, comp_in):
            assert (a.grad is None) == (b.grad is None)


def test_a_step_calling_a_function_over_the_model_and_optimizer_equals_eager():
    # the momentum buffers are reached through the closure of the function the step calls
    make_opt = lambda m: SGD(m.parameters(), lr=0.1, momentum=0.9)  # noqa: E731
    (m1, o1), (m2, o2) = twins(mlp(act=Tanh), make_opt)
    eager = training_step(m1, o1, al.mse_loss)
    inner = training_step(m2, o2, al.mse_loss)
    compiled = al.compile(lambda x, y: inner(x, y))
    for x, y in regression_batches(6, count=3) * 2:
        close(eager(x, y).data, compiled(x, y).data)
        same_state(m1, m2)
    assert "momentum_buffer_model_0_weight" in compiled.source


def test_mixed_eager_and_compiled_calls_on_one_model():
    (m1, o1), (m2, o2) = twins(mlp(), lambda m: SGD(m.parameters(), lr=0.1, momentum=0.9))
    s1, s2 = training_step(m1, o1, al.mse_loss), training_step(m2, o2, al.mse_loss)
    compiled = al.compile(s2)
    batches = regression_batches(4, count=8)
    for k, (x, y) in enumerate(batches):
        s1(x, y)
        (compiled if k % 3 else s2)(x, y)  # eager, compiled, compiled, eager, ...
        same_state(m1, m2)
    close(o1.state["momentum_buffer"][0], o2.state["momentum_buffer"][0])


def test_dropout_draws_a_fresh_mask_per_call_from_the_same_generator():
    def make():
        return Sequential(Linear(6, 6), Dropout(0.5, rng=7), Linear(6, 2))

    m1 = make()
    m2 = copy.deepcopy(m1)
    s1 = training_step(m1, SGD(m1.parameters(), lr=0.1), al.mse_loss)
    compiled = al.compile(training_step(m2, SGD(m2.parameters(), lr=0.1), al.mse_loss))
    grads = []
    for x, y in regression_batches(3, n_in=6, n_out=2, count=4):
        close(s1(x, y).data, compiled(x, y).data)
        same_state(m1, m2)
        grads.append(m2[0].weight.grad.data.copy())
    assert "random" in compiled.source
    assert not np.allclose(grads[2], grads[3])  # different masks on different calls


def test_no_grad_regions_and_custom_functions_are_traced():
    w = al.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)

    def step(x):
        with al.no_grad():
            scale = (x * x).sum()
        y = Cube.apply(w * x).sum() * scale
        w.grad = None
        y.backward()
        return y, w.grad

    compiled = al.compile(step)
    for x in (np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.1, -2.0]), np.array([3.0, 1.0, 1.0])):
        y_c, g_c = compiled(x)
        y_e, g_e = step(x)
        close(y_e.data, y_c.data)
        close(g_e.data, g_c.data)
    assert "Cube" in compiled.source


# -- the source ----------------------------------------------------------------------------------


def test_source_runs_with_only_numpy_and_reproduces_the_step():
    (m1, o1), (m2, o2) = twins(mlp(), lambda m: SGD(m.parameters(), lr=0.1))
    compiled = al.compile(training_step(m2, o2, al.squared_error))
    (x, y), (x2, y2) = regression_batches(3, count=2)
    eager = training_step(m1, o1, al.squared_error)
    for step in (eager, eager, compiled, compiled):  # traced twice: then .grad exists
        step(x, y)
    source = compiled.source
    namespace = {"np": np}
    exec(source, namespace)  # a namespace holding only NumPy
    fn = namespace["step"]
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    params = dict(m1.named_parameters())
    arrays = {"x": x2, "y": y2}
    for name, p in params.items():
        arrays["model_" + name.replace(".", "_")] = p.data
    assert set(names) <= set(arrays), names  # inputs: the arguments and the parameters
    args = [arrays[n] for n in names]
    loss, *grads = fn(*args)  # updates m1's parameters in place, as the step does
    want = compiled(x2, y2)
    close(loss, want.data)
    same_state_values = [p.data for p in m2.parameters()]
    for a, b in zip(params.values(), same_state_values):
        close(a.data, b)
    for g, p in zip(grads, m2.parameters()):
        close(g, p.grad.data)


def test_source_names_parameters_and_comments_each_backward_rule():
    net = NeuralNetwork(3, 2, 4, 0.1, rng=0, compiled=True)
    net.train([0.1, 0.5, 0.9], [0.9, 0.1])
    source = net._step.source
    assert source.startswith("def step(x, t, hidden_weight, output_weight):")
    assert "# backward of Sigmoid: o = σ(x)" in source
    assert "# backward of MatMul" in source
    assert "hidden_weight -=" in source and "output_weight -=" in source
    assert "import" not in source


# -- guards --------------------------------------------------------------------------------------


def small_setup(opt_factory=lambda m: SGD(m.parameters(), lr=0.1)):
    (m1, o1), (m2, o2) = twins(mlp(), opt_factory)
    eager = training_step(m1, o1, al.mse_loss)
    compiled = al.compile(training_step(m2, o2, al.mse_loss))
    batches = regression_batches(4, count=4)
    for x, y in batches[:2]:
        eager(x, y)
        compiled(x, y)
    return (m1, o1, eager), (m2, o2, compiled), batches


def test_a_new_signature_is_traced_anew():
    (m1, _, eager), (m2, _, compiled), _ = small_setup()
    before = compiled.traces
    x, y = regression_batches(7, count=1)[0]
    close(eager(x, y).data, compiled(x, y).data)
    assert compiled.traces == before + 1
    same_state(m1, m2)


def test_rebound_parameter_data_is_read_or_retraced():
    (m1, _, eager), (m2, _, compiled), batches = small_setup()
    before = compiled.traces
    new = np.random.default_rng(9).normal(size=m1[0].weight.shape)
    m1[0].weight.data, m2[0].weight.data = new.copy(), new.copy()  # same shape: read anew
    x, y = batches[2]
    close(eager(x, y).data, compiled(x, y).data)
    same_state(m1, m2)
    assert compiled.traces == before
    wider = Linear(4, 5)
    m1[0].weight.data = np.ones((5, 4, 1))[..., 0]
    m2[0].weight.data = np.ones((5, 4)).astype(np.float32)  # another dtype: traced anew
    del wider
    compiled(x, y)
    assert compiled.traces == before + 1


def test_registering_a_hook_retraces_and_the_hook_runs():
    (m1, _, eager), (m2, _, compiled), batches = small_setup()
    before = compiled.traces
    seen = []
    m1[0].bias.register_hook(lambda g: g * 2)
    m2[0].bias.register_hook(lambda g: seen.append(1) or g * 2)
    x, y = batches[2]
    close(eager(x, y).data, compiled(x, y).data)
    same_state(m1, m2)
    assert compiled.traces == before + 1 and seen == [1]


def test_grad_mode_change_retraces():
    _, (_, _, compiled), batches = small_setup()
    before = compiled.traces
    x, y = batches[2]
    with al.no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        compiled(x, y)  # traced anew under no_grad, where backward() cannot run: as eager
    assert compiled.traces == before + 1


def test_anomaly_mode_is_refused_clearly():
    (_, _, _), (_, _, compiled), batches = small_setup()
    with al.detect_anomaly(), pytest.raises(RuntimeError, match="anomaly mode"):
        compiled(*batches[2])


def test_optimizer_hyperparameter_change_retraces():
    (m1, o1, eager), (m2, o2, compiled), batches = small_setup(
        lambda m: Adam(m.parameters(), lr=0.01)
    )
    before = compiled.traces
    o1.lr = o2.lr = 0.05
    for x, y in batches[2:]:
        close(eager(x, y).data, compiled(x, y).data)
        same_state(m1, m2)
    assert compiled.traces == before + 1


def test_module_mode_change_retraces():
    m = Sequential(Linear(3, 3), Dropout(0.5, rng=1), Linear(3, 1))
    opt = SGD(m.parameters(), lr=0.1)
    compiled = al.compile(training_step(m, opt, al.mse_loss))
    x, y = np.ones((2, 3)), np.ones((2, 1))
    compiled(x, y)
    compiled(x, y)
    before = compiled.traces
    m.eval()
    compiled(x, y)
    assert compiled.traces == before + 1
    assert "random" not in compiled.source


# -- what cannot be traced -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "branch",
    [
        lambda loss: bool(loss),
        lambda loss: loss.item(),
        lambda loss: float(loss),
        lambda loss: 1 if loss > 0 else 0,
    ],
    ids=["bool", "item", "float", "if t > 0"],
)
def test_data_dependent_control_flow_raises_trace_error_naming_the_line(branch):
    w = al.Tensor(np.ones(3), requires_grad=True)

    def step(x):
        loss = (w * x).sum()
        branch(loss)  # the line the error names
        return loss

    compiled = al.compile(step)
    with pytest.raises(al.TraceError, match=r"test_compile\.py:\d+: lambda loss"):
        compiled(np.ones(3))
    assert type(w.data) is np.ndarray  # the trace put everything back
    close(step(np.ones(3)).data, 3.0)


def test_returning_something_else_than_tensors_is_refused():
    compiled = al.compile(lambda x: "text")
    with pytest.raises(al.TraceError, match="returned a str"):
        compiled(np.ones(2))


def test_compile_is_a_decorator_and_exported():
    @al.compile
    def double(x):
        return al.Tensor(x) * 2

    close(double(np.ones(2)).data, [2.0, 2.0])
    close(double(np.full(2, 3.0)).data, [6.0, 6.0])
    assert "compile" in al.__all__ and "TraceError" in al.__all__
    assert double.__name__ == "double"


def test_reused_buffers_never_reach_what_the_caller_holds():
    """Large temporaries live in buffers reused from call to call, and a previous gradient's
    memory is reused when nothing else refers to it: what a caller kept stays as it was."""
    rng = np.random.default_rng(8)

    def make():
        w = al.Tensor(rng.normal(size=(60, 50)) * 0.1, requires_grad=True)
        return w, SGD([w], lr=0.01)

    (w1, o1), (w2, o2) = make(), make()
    w2.data[...] = w1.data

    def training(w, opt):
        def step(x, t):
            loss = al.squared_error(al.tanh(w @ x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return step

    eager, compiled = training(w1, o1), al.compile(training(w2, o2))
    kept = []
    for k in range(6):
        x, t = rng.normal(size=50), rng.normal(size=60)
        close(eager(x, t).data, compiled(x, t).data)
        close(w1.data, w2.data)
        close(w1.grad.data, w2.grad.data)
        if k % 2:  # hold this call's gradient: the next call must leave it alone
            kept.append((w2.grad, w2.grad.data.copy()))
    assert "out=old_" in compiled.source  # the previous gradient's memory is reused
    for grad, values in kept:
        np.testing.assert_array_equal(grad.data, values)


# -- threads -------------------------------------------------------------------------------------


def test_two_threads_tracing_and_replaying_at_once_equal_eager():
    # thread 1 starts tracing while thread 0 traces, and traces on after thread 0 has traced
    # and replayed: NumPy and the optimizers must stay patched for it, and both be restored
    # once the last trace is out
    import sys
    import threading

    tensor_module = sys.modules["autograd_lite.tensor"]  # al.tensor is the function
    originals = (SGD.step, Adam.step)
    tracing = [threading.Event(), threading.Event()]
    first_done = threading.Event()
    patched_meanwhile: list[bool] = []
    failures: list[BaseException] = []

    def worker(k, make_opt):
        try:
            (m1, o1), (m2, o2) = twins(mlp(act=Tanh), make_opt)
            eager = training_step(m1, o1, al.mse_loss)
            inner = training_step(m2, o2, al.mse_loss)
            traced = []

            def step(x, y):
                if not traced:  # runs while tracing only
                    traced.append(True)
                    tracing[k].set()
                    assert tracing[1 - k].wait(30)
                    if k == 1:
                        assert first_done.wait(30)
                        patched_meanwhile.append(tensor_module.np is not np)
                return inner(x, y)

            compiled = al.compile(step)
            if k == 1:
                assert tracing[0].wait(30)
            for i, (x, y) in enumerate(regression_batches(6, count=3, seed=k) * 2):
                close(eager(x, y).data, compiled(x, y).data)
                same_state(m1, m2)
                if i == 1:
                    first_done.set()
            assert compiled.traces == 2  # without optimizer state, then with it
        except BaseException as exc:
            failures.append(exc)
            for event in (*tracing, first_done):
                event.set()

    threads = [
        threading.Thread(target=worker, args=(0, lambda m: SGD(m.parameters(), 0.1, momentum=0.9))),
        threading.Thread(target=worker, args=(1, lambda m: Adam(m.parameters(), lr=0.01))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if failures:
        raise failures[0]
    assert patched_meanwhile == [True]
    assert tensor_module.np is np
    assert (SGD.step, Adam.step) == originals


def test_a_step_whose_retained_graph_keeps_the_weight_read_only_equals_eager():
    def make():
        w = al.Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
        opt = al.optim.SGD([w], lr=0.1, momentum=0.9)

        def step(x):
            loss = (al.tanh(w @ x) ** 2).sum() + (w * w).sum()  # w * w's rule reads w
            opt.zero_grad()
            loss.backward(retain_graph=True)  # the graph keeps reading w's array: read-only
            opt.step()  # so the update goes into a copy
            return loss

        return w, step

    x = np.arange(4.0)
    w_eager, eager = make()
    w_compiled, step = make()
    compiled = al.compile(step)
    graphs = []  # the eager losses, each keeping its graph (and w's array then) alive
    for _ in range(4):
        before = w_eager.data
        graphs.append(eager(x))
        assert w_eager.data is not before and not before.flags.writeable  # updated in a copy
        np.testing.assert_allclose(compiled(x).data, graphs[-1].data, rtol=1e-12)
        np.testing.assert_allclose(w_compiled.data, w_eager.data, rtol=1e-12)
