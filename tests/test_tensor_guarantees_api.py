"""torch's autograd guarantees, part 2 (issue 11, items 6 to 10): views alias or
raise, tensor() refuses what it cannot hold, backward(inputs=) as torch's, NaN in
max/min/clamp, and what a custom Function's backward may return or write.

Each scenario is written once, as scenario(lib), and run under torch (float64)
and under tapegrad: tapegrad must raise what torch raises and give torch's numbers.
Part 1 (items 1 to 5) is test_tensor_guarantees.py.
"""
import numpy as np
import pytest

import tapegrad as tg
from torch_reference import raises_like_torch, same_numbers_as_torch, tensor

torch = pytest.importorskip("torch")

NAN = float("nan")


# --------------------------------------------------------- 6. views alias or raise

def grid(lib, requires_grad=False):
    return tensor(lib, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=requires_grad)


NOT_VIEWABLE = {
    "t().view(6)": lambda lib: grid(lib).t().view(6),
    "t().view(-1)": lambda lib: grid(lib).t().view(-1),
    "t().view(6), requires_grad": lambda lib: grid(lib, True).t().view(6),
    "[:, ::2].view(4)": lambda lib: grid(lib)[:, ::2].view(4),
    "t().view(2, 3)": lambda lib: grid(lib).t().view(2, 3),
}


@pytest.mark.parametrize("case", NOT_VIEWABLE)
def test_view_of_a_non_contiguous_tensor_raises(case):
    """Today view copies, and writes through the 'view' are lost."""
    raises_like_torch(torch, NOT_VIEWABLE[case], r"view size is not compatible with input "
                                                 r"tensor's size and stride")


VIEWABLE = {
    "contiguous view(3, 2)": lambda x: x.view(3, 2),
    "t().view(3, 2)": lambda x: x.t().view(3, 2),
    "t().view(3, 1, 2)": lambda x: x.t().view(3, 1, 2),
    "t().view(-1, 2)": lambda x: x.t().view(-1, 2),
}


@pytest.mark.parametrize("case", VIEWABLE)
def test_a_view_torch_allows_aliases_its_base(case):
    def scenario(lib):
        x = grid(lib)
        v = VIEWABLE[case](x)
        v[0, 0] = 9.0           # one element of v, seen through x
        x[1, 2] = -1.0          # and one of x, seen through v
        return x, v

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("dims", [(1, 0), (-1, 0), (2, 1), (-1, -2)], ids=str)
def test_flatten_with_start_after_end_raises(dims):
    raises_like_torch(torch, lambda lib: tensor(lib, np.ones((2, 2, 2))).flatten(*dims),
                      r"flatten\(\) has invalid args: start_dim cannot come after end_dim")


@pytest.mark.parametrize("dims", [(0, 0), (1, 1), (0, -1), (1, 2), (-2, -1)], ids=str)
def test_flatten_with_start_at_or_before_end_gives_torch_s_shape(dims):
    same_numbers_as_torch(torch,
                          lambda lib: tensor(lib, np.arange(8.0).reshape(2, 2, 2)).flatten(*dims))


LEAF_VIEWS = {
    "x[:2]": lambda x: x[:2],
    "x.view(3, 1)": lambda x: x.view(3, 1),
    "x.reshape(1, 3)": lambda x: x.reshape(1, 3),
    "x[None].t()": lambda x: x[None].t(),
}

VIEW_WRITES = {
    "add_": lambda v, lib: v.add_(1.0),
    "mul_": lambda v, lib: v.mul_(2.0),
    "+=": lambda v, lib: v.__iadd__(1.0),
    "setitem": lambda v, lib: v.__setitem__(0, 5.0),
    "zero_": lambda v, lib: v.zero_(),
    "fill_": lambda v, lib: v.fill_(1.0),
    "copy_": lambda v, lib: v.copy_(lib.ones_like(v)),
}


@pytest.mark.parametrize("write", VIEW_WRITES)
@pytest.mark.parametrize("view", LEAF_VIEWS)
def test_writing_a_view_of_a_leaf_that_requires_grad_raises(view, write):
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        VIEW_WRITES[write](LEAF_VIEWS[view](x), lib)

    raises_like_torch(torch, scenario, r"a view of a leaf Variable that requires grad is being "
                                       r"used in an in-place operation")


@pytest.mark.parametrize("write", ["add_", "setitem"])
def test_writing_a_leaf_that_requires_grad_raises(write):
    def scenario(lib):
        VIEW_WRITES[write](tensor(lib, [1.0, 2.0, 3.0], requires_grad=True), lib)

    # torch words __setitem__ on the leaf itself as "a view of a leaf Variable ..."
    raises_like_torch(torch, scenario, r"leaf Variable that requires grad is being used in an "
                                       r"in-place operation")


@pytest.mark.parametrize("write", VIEW_WRITES)
def test_writing_a_view_of_a_leaf_is_allowed_under_no_grad_and_through_detach(write):
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        with lib.no_grad():
            VIEW_WRITES[write](x[:2], lib)
        y = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        VIEW_WRITES[write](y.detach()[1:], lib)
        (x * y).sum().backward()
        return x, y, x.grad, y.grad

    same_numbers_as_torch(torch, scenario)


# ----------------------------------------- 7. tensor() refuses what it cannot hold

@pytest.mark.parametrize("data", [[2 ** 63], [-2 ** 63 - 1], 2 ** 63, [[1], [2 ** 63]],
                                  [True, 2 ** 63], [2 ** 64]],
                         ids=["[2**63]", "[-2**63-1]", "2**63", "[[1], [2**63]]",
                              "[True, 2**63]", "[2**64]"])
def test_an_integer_beyond_int64_raises(data):
    """Today [2**63] wraps to -2**63."""
    raises_like_torch(torch, lambda lib: lib.tensor(data), r"Overflow when unpacking long long")


@pytest.mark.parametrize("data", [[2 ** 63 - 1], [-2 ** 63], [1.5, 2 ** 63]],
                         ids=["[2**63-1]", "[-2**63]", "[1.5, 2**63]"])
def test_integers_at_the_edge_of_int64_and_big_integers_among_floats_are_kept(data):
    def scenario(lib):
        t = lib.tensor(data)
        return str(t.dtype).split(".")[-1], t.tolist()

    expected = scenario(torch)
    assert scenario(tg) == expected


NOT_TENSOR_DTYPES = {
    "str": np.array(["a", "b"]),
    "object of str": np.array([1, "x"], dtype=object),
    "object of int": np.array([1, 2], dtype=object),
    "datetime64": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
    "timedelta64": np.array([1, 2], dtype="timedelta64[s]"),
}

MAKERS = {
    "tensor": lambda lib, a: lib.tensor(a),
    "Tensor": lambda lib, a: lib.Tensor(a),
    "from_numpy": lambda lib, a: lib.from_numpy(a),
}


@pytest.mark.parametrize("maker", MAKERS)
@pytest.mark.parametrize("dtype", NOT_TENSOR_DTYPES)
def test_a_numpy_array_of_a_dtype_tensors_do_not_have_is_refused(dtype, maker):
    """Today tensor() and Tensor() convert them, or make an object tensor."""
    raises_like_torch(torch, lambda lib: MAKERS[maker](lib, NOT_TENSOR_DTYPES[dtype]),
                      r"can't convert np\.ndarray of type numpy\.")


@pytest.mark.parametrize("maker", MAKERS)
def test_a_complex_numpy_array_is_refused_as_a_complex_list_is(maker):
    """torch has complex tensors and accepts them; tapegrad has none, so it refuses the
    array with the TypeError its list path already raises, rather than dropping the
    imaginary part."""
    with pytest.raises(TypeError):
        tg.tensor([1 + 2j])
    with pytest.raises(TypeError):
        MAKERS[maker](tg, np.array([1 + 2j, 3.0]))


# --------------------------------------------------- 8. backward(inputs=) as torch's

def product(lib):
    a = tensor(lib, [1.0, 2.0], requires_grad=True)
    b = tensor(lib, [3.0, 4.0], requires_grad=True)
    return a, b, (a * b).sum()


def test_backward_inputs_a_single_tensor():
    """Today a bare tensor is taken as an empty list of inputs: no gradient at all."""
    def scenario(lib):
        a, b, y = product(lib)
        y.backward(inputs=a)
        return a.grad, b.grad

    a_grad, b_grad = same_numbers_as_torch(torch, scenario)
    assert b_grad is None


@pytest.mark.parametrize("how", ["Tensor.backward", "autograd.backward"])
@pytest.mark.parametrize("empty", [[], ()], ids=["[]", "()"])
def test_backward_with_empty_inputs_raises(how, empty):
    def scenario(lib):
        _, _, y = product(lib)
        if how == "Tensor.backward":
            y.backward(inputs=empty)
        else:
            lib.autograd.backward(y, inputs=empty)

    raises_like_torch(torch, scenario, r"`inputs` argument to `backward\(\)` cannot be empty")


def test_backward_into_a_non_leaf_input_accumulates_its_grad():
    def scenario(lib):
        a, b, _ = product(lib)
        h = a * b
        y = (h * h).sum()
        y.backward(inputs=[h, a], retain_graph=True)
        first = (h.grad.clone(), a.grad.clone(), b.grad)
        y.backward(inputs=[h])
        return first, h.grad, a.grad, b.grad

    same_numbers_as_torch(torch, scenario)


def test_backward_into_a_single_non_leaf_tensor():
    def scenario(lib):
        a = tensor(lib, [1.0, 2.0], requires_grad=True)
        h = a * 3
        (h * h).sum().backward(inputs=h)
        return h.grad, a.grad

    same_numbers_as_torch(torch, scenario)


def test_backward_into_an_input_the_output_does_not_use_leaves_grads_alone():
    def scenario(lib):
        a = tensor(lib, [1.0, 2.0], requires_grad=True)
        unused = tensor(lib, [1.0, 1.0], requires_grad=True)
        (a * 2).sum().backward(inputs=[unused])
        return a.grad, unused.grad

    same_numbers_as_torch(torch, scenario)


def test_backward_into_an_input_that_does_not_require_grad_raises():
    def scenario(lib):
        a = tensor(lib, [1.0, 2.0], requires_grad=True)
        constant = tensor(lib, [1.0, 1.0])
        (a * constant).sum().backward(inputs=[constant])

    raises_like_torch(torch, scenario, r"requires_grad=False")


def test_backward_into_an_input_that_is_not_a_tensor_raises():
    def scenario(lib):
        a = tensor(lib, [1.0, 2.0], requires_grad=True)
        (a * 2).sum().backward(inputs=[1.0])

    raises_like_torch(torch, scenario, r"all inputs have to be Tensors")


# ------------------------------------------------------ 9. NaN in max, min, clamp

ONE_NAN = [[1.0, NAN, 3.0], [4.0, 5.0, 6.0]]
TWO_NANS = [[NAN, 2.0, NAN], [4.0, 5.0, 5.0]]

REDUCTIONS = {
    "max()": lambda x: x.max(),
    "min()": lambda x: x.min(),
    "max(dim=1)": lambda x: x.max(dim=1)[0],
    "min(dim=1)": lambda x: x.min(dim=1)[0],
    "max(dim=0)": lambda x: x.max(dim=0)[0],
    "min(dim=0, keepdim)": lambda x: x.min(dim=0, keepdim=True)[0],
}


@pytest.mark.parametrize("data", [ONE_NAN, TWO_NANS], ids=["one NaN", "two NaNs"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_max_and_min_with_nan_give_torch_s_values_and_gradients(reduction, data):
    """torch propagates the NaN and sends the gradient to it (split evenly among NaNs
    in a full reduction); today the full reduction's gradient is all NaN."""
    def scenario(lib):
        x = tensor(lib, data, requires_grad=True)
        y = REDUCTIONS[reduction](x)
        y.backward(lib.ones_like(y) * 10)
        return y, x.grad

    same_numbers_as_torch(torch, scenario)


@pytest.mark.parametrize("pick", ["max", "min", "argmax", "argmin"])
def test_the_index_of_max_and_min_points_at_the_first_nan(pick):
    def scenario(lib):
        x = tensor(lib, [[1.0, NAN, 3.0], [NAN, 5.0, NAN], [2.0, 2.0, 1.0]])
        if pick in ("max", "min"):
            return getattr(x, pick)(dim=1)[1]
        return getattr(x, pick)(dim=1)

    same_numbers_as_torch(torch, scenario)


CLAMPS = {
    "min=nan": lambda x: x.clamp(min=NAN),
    "max=nan": lambda x: x.clamp(max=NAN),
    "nan, nan": lambda x: x.clamp(NAN, NAN),
    "nan, 1": lambda x: x.clamp(NAN, 1.0),
    "0, nan": lambda x: x.clamp(0.0, NAN),
    "-1, 1 with a NaN input": lambda x: x.clamp(-1.0, 1.0),
    "2, 1 (min above max)": lambda x: x.clamp(2.0, 1.0),
}


@pytest.mark.parametrize("clamp", CLAMPS)
def test_clamp_with_a_nan_bound_gives_torch_s_values_and_gradients(clamp):
    """torch: a NaN bound makes every value NaN, with zero gradient; today the NaN
    bound is ignored."""
    def scenario(lib):
        x = tensor(lib, [[-2.0, 0.5, NAN], [4.0, 1.0, -1.0]], requires_grad=True)
        y = CLAMPS[clamp](x)
        y.sum().backward()
        return y, x.grad

    same_numbers_as_torch(torch, scenario)


# -------------------------------- 10. what a custom Function's backward may return

def function_with_backward(lib, backward):
    """A Function doubling its first input, whose backward is `backward(grad)`."""
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, *inputs):
            return inputs[0] * 2

        @staticmethod
        def backward(ctx, grad):
            return backward(lib, grad)

    return Double


def apply_and_backward(lib, backward, inputs=1, gradient=None):
    xs = [tensor(lib, [1.0, 2.0, 3.0], requires_grad=True) for _ in range(inputs)]
    y = function_with_backward(lib, backward).apply(*xs)
    if gradient is None:
        y.sum().backward()
    else:
        y.backward(gradient)
    return [x.grad for x in xs]


BAD_RETURNS = {
    "two gradients for one input": (lambda lib, g: (g * 2, g * 3), 1,
                                    r"returned an incorrect number of gradients "
                                    r"\(expected 1, got 2\)"),
    "three gradients for two inputs": (lambda lib, g: (g * 2, g * 3, g), 2,
                                       r"returned an incorrect number of gradients "
                                       r"\(expected 2, got 3\)"),
    "one gradient for two inputs": (lambda lib, g: g * 2, 2,
                                    r"returned an incorrect number of gradients "
                                    r"\(expected 2, got 1\)"),
    "a list for two inputs": (lambda lib, g: [g * 2, g], 2,
                              r"returned an incorrect number of gradients "
                              r"\(expected 2, got 1\)"),
    "a list": (lambda lib, g: [g * 2], 1, r"expected Variable or None \(got list\)"),
    "a numpy array": (lambda lib, g: np.ones(3), 1, r"expected Variable or None"),
    "a float": (lambda lib, g: 1.0, 1, r"expected Variable or None \(got float\)"),
    "shape (2,) for (3,)": (lambda lib, g: tensor(lib, [1.0, 2.0]), 1,
                            r"returned an invalid gradient at index 0"),
    "shape (1,) for (3,)": (lambda lib, g: tensor(lib, [5.0]), 1,
                            r"returned an invalid gradient at index 0"),
    "shape () for (3,)": (lambda lib, g: tensor(lib, 5.0), 1,
                          r"returned an invalid gradient at index 0"),
    "shape (3, 1) for (3,)": (lambda lib, g: tensor(lib, [[1.0], [2.0], [3.0]]), 1,
                              r"returned an invalid gradient at index 0"),
}


@pytest.mark.parametrize("case", BAD_RETURNS)
def test_a_function_backward_returning_the_wrong_gradients_raises(case):
    backward, inputs, match = BAD_RETURNS[case]
    raises_like_torch(torch, lambda lib: apply_and_backward(lib, backward, inputs), match)


GOOD_RETURNS = {
    "a tuple with an extra None": lambda lib, g: (g * 2, None),
    "shape (1, 3) for (3,), summed": lambda lib, g: tensor(lib, [[1.0, 2.0, 3.0]]),
    "shape (2, 3) for (3,), summed": lambda lib, g: tensor(lib, [[1.0, 2.0, 3.0],
                                                                  [10.0, 20.0, 30.0]]),
    "float32 for float64, cast": lambda lib, g: lib.ones(3, dtype=lib.float32) * 0.1,
}


@pytest.mark.parametrize("case", GOOD_RETURNS)
def test_a_function_backward_return_torch_accepts_gives_torch_s_gradient(case):
    same_numbers_as_torch(torch, lambda lib: apply_and_backward(lib, GOOD_RETURNS[case]),
                          rtol=1e-7)


def double_in_place(lib, g):
    g.mul_(2)
    return g


def set_first_in_place(lib, g):
    g[0] = 7.0
    return g * 1


@pytest.mark.parametrize("write", [double_in_place, set_first_in_place],
                         ids=["mul_", "setitem"])
def test_function_backward_may_write_the_gradient_given_to_backward(write):
    """The Function may write the gradient backward(gradient=g) brought. (torch hands it g
    itself, so the caller sees the write; tapegrad hands it its own copy, since a gradient may
    be shared with another input's: the numbers that flow on are the same.)"""
    def scenario(lib):
        g = tensor(lib, [1.0, 10.0, 100.0])
        return apply_and_backward(lib, write, gradient=g)

    same_numbers_as_torch(torch, scenario)


SEEDS = {
    "mean()": lambda lib, y: y.mean().backward(),
    "backward(gradient=g.expand(3))": lambda lib, y: y.backward(tensor(lib, [1.0, 2.0, 3.0])
                                                               .expand(3)),
    "(y * w).sum()": lambda lib, y: (y * tensor(lib, [1.0, 2.0, 3.0])).sum().backward(),
    "y[1:].sum()": lambda lib, y: y[1:].sum().backward(),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("write", [double_in_place, set_first_in_place],
                         ids=["mul_", "setitem"])
def test_function_backward_may_write_the_gradient_it_receives(write, seed):
    """Today a gradient coming from mean() or an expand is a read-only numpy view:
    'output array is read-only'."""
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        SEEDS[seed](lib, function_with_backward(lib, write).apply(x))
        return x.grad

    same_numbers_as_torch(torch, scenario)


needs_hooks = pytest.mark.skipif(not hasattr(tg.Tensor, "register_hook"),
                                 reason="tapegrad.Tensor has no register_hook yet")


@needs_hooks
@pytest.mark.parametrize("where", ["on the output", "on an intermediate", "on the leaf"])
@pytest.mark.parametrize("seed", ["gradient=", "mean()"])
def test_a_hook_may_write_the_gradient_in_place(where, seed):
    def scenario(lib):
        x = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        h = x * 3
        y = h if where == "on the output" else h * 1
        {"on the output": h, "on an intermediate": h, "on the leaf": x}[where] \
            .register_hook(lambda g: g.mul_(2))
        g = tensor(lib, [1.0, 10.0, 100.0])
        if seed == "gradient=":
            y.backward(g)
        else:
            y.mean().backward()
        # (torch's hook writes into the caller's g itself; tapegrad's into a copy of it)
        return x.grad

    same_numbers_as_torch(torch, scenario)
