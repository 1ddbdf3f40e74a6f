# micrograd's Neuron and Layer forward, recorded natively: included by _engine.pyx.
#
# A neuron is sum((wi*xi for wi, xi in zip(w, x)), b), then relu: the tape gets
# the very nodes micrograd's expression makes (a '*' node and then a '+' node
# per term, b first, a plain number folded into its '*'), with the same values,
# but no handle is made for the intermediate nodes and no Python runs between
# them. Inputs other than Values and real numbers take the plain Python path.

cdef enum:
    STACK_INPUTS = 64   # inputs read into arrays on the C stack; more are allocated


cdef int _read_inputs(tuple xs, Py_ssize_t n, double *numbers, int *kinds) except -1:
    """Reads xs[:n] before anything is recorded (reading a number may run
    Python code, which must not run while unrooted nodes are being recorded):
    kinds[i] is NOT_A_NUMBER for a Value, else the number's kind, in numbers[i].
    Returns 0 if some input is neither."""
    cdef Py_ssize_t i
    for i in range(n):
        x = xs[i]
        if isinstance(x, Value):
            _check(<Value>x)
            kinds[i] = NOT_A_NUMBER
        else:
            kinds[i] = _as_number(x, &numbers[i])
            if kinds[i] == NOT_A_NUMBER:
                return 0
    return 1


cdef int _all_values(object ws, Py_ssize_t n) except -1:
    """1 if ws[:n] are all Values (raises for an uninitialised one), else 0."""
    cdef Py_ssize_t i
    for i in range(n):
        w = ws[i]
        if not isinstance(w, Value):
            return 0
        _check(<Value>w)
    return 1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef tg_node *_neuron_node(tg_node *bias, object ws, tuple xs, Py_ssize_t n,
                           const double *numbers, const int *kinds) except NULL:
    """b + w0*x0 + w1*x1 + ..., in micrograd's order, of inputs checked by
    _read_inputs and weights (a list or a tuple) checked by _all_values."""
    cdef tg_node *acc = bias
    cdef tg_node *product
    cdef Py_ssize_t i
    for i in range(n):
        if kinds[i] == NOT_A_NUMBER:
            product = _binary_node(TG_OP_MUL, (<Value>ws[i]).node, (<Value>xs[i]).node)
        else:
            product = _const_node(TG_OP_MUL, (<Value>ws[i]).node, numbers[i],
                                  kinds[i] == INTEGER)
        acc = _binary_node(TG_OP_ADD, acc, product)
    return acc


def weighted_sum(w, x, Value start not None):
    """``sum((wi*xi for wi, xi in zip(w, x)), start)``, recorded natively."""
    cdef double stack_numbers[STACK_INPUTS]
    cdef int stack_kinds[STACK_INPUTS]
    cdef double *numbers = stack_numbers
    cdef int *kinds = stack_kinds
    cdef Py_ssize_t n
    _check(start)
    ws = tuple(w)
    xs = tuple(x)
    n = min(len(ws), len(xs))
    if n > STACK_INPUTS:
        numbers = <double *>malloc(n * sizeof(double))
        kinds = <int *>malloc(n * sizeof(int))
    try:
        if numbers is NULL or kinds is NULL:
            raise MemoryError()
        if not _read_inputs(xs, n, numbers, kinds) or not _all_values(ws, n):
            return sum((a * b for a, b in zip(ws, xs)), start)
        return _handle_of(_neuron_node(start.node, ws, xs, n, numbers, kinds))
    finally:
        if numbers is not stack_numbers:
            free(numbers)
            free(kinds)


def layer_forward(neurons, x, neuron_type):
    """``[n(x) for n in neurons]``, recorded natively for the neurons of
    neuron_type (micrograd's Neuron: n.w, n.b, n.nonlin); the others are called."""
    cdef double stack_numbers[STACK_INPUTS]
    cdef int stack_kinds[STACK_INPUTS]
    cdef double *numbers = stack_numbers
    cdef int *kinds = stack_kinds
    cdef Py_ssize_t n, nx
    cdef tg_node *act
    cdef list out = []
    xs = tuple(x)
    if type(x) is not list:
        x = xs      # an iterator is read once: every neuron gets the same inputs
    nx = len(xs)
    if nx > STACK_INPUTS:
        numbers = <double *>malloc(nx * sizeof(double))
        kinds = <int *>malloc(nx * sizeof(int))
    try:
        if numbers is NULL or kinds is NULL:
            raise MemoryError()
        if not _read_inputs(xs, nx, numbers, kinds):
            return [neuron(x) for neuron in neurons]
        for neuron in neurons:
            if type(neuron) is not neuron_type:
                out.append(neuron(x))
                continue
            # Python may run here (attributes, truth values), between neurons
            ws = neuron.w
            if type(ws) is not list and type(ws) is not tuple:
                ws = tuple(ws)
            bias = neuron.b
            relu = True if neuron.nonlin else False
            n = min(len(ws), nx)
            if not isinstance(bias, Value) or not _all_values(ws, n):
                out.append(neuron(x))
                continue
            _check(<Value>bias)
            # and not from here on until the neuron's output has its handle
            act = _neuron_node((<Value>bias).node, ws, xs, n, numbers, kinds)
            if relu:
                act = _relu_node(act)
            out.append(_handle_of(act))
        return out
    finally:
        if numbers is not stack_numbers:
            free(numbers)
            free(kinds)
