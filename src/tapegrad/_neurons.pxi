# micrograd's Neuron, Layer and MLP natively (forward, parameters, zero_grad):
# included by _engine.pyx.
#
# A neuron is sum((wi*xi for wi, xi in zip(w, x)), b), then relu: the tape gets
# the very nodes micrograd's expression makes (a '*' node and then a '+' node
# per term, b first, a plain number folded into its '*'), with the same values,
# but no handle is made for the intermediate nodes and no Python runs between
# them. Inputs other than Values and real numbers take the plain Python path.

cdef extern from "Python.h":
    object PyObject_GenericGetDict(object, void *)
    PyObject *PyObject_GenericGetAttr(PyObject *, PyObject *)
    bint PyDict_Next(object, Py_ssize_t *, PyObject **, PyObject **)
    PyObject *PyDict_GetItem(object, object)
    PyObject *_PyType_Lookup(PyTypeObject *, object)
    PyObject *PyList_GET_ITEM(object, Py_ssize_t)
    PyObject *PyTuple_GET_ITEM(object, Py_ssize_t)
    PyTypeObject *Py_TYPE(PyObject *)


cdef enum:
    STACK_INPUTS = 64   # inputs read into arrays on the C stack; more are allocated


cdef struct _Operands:
    # one layer's inputs, read once: input i is the Value of node nodes[i], or
    # (nodes[i] NULL) the number numbers[i], an int where int_numbers[i]; and weights, the
    # weight nodes of the neuron being recorded
    double *numbers
    int *int_numbers
    tg_node **nodes
    tg_node **weights


cdef struct _StackOperands:
    double numbers[STACK_INPUTS]
    int int_numbers[STACK_INPUTS]
    tg_node *nodes[STACK_INPUTS]
    tg_node *weights[STACK_INPUTS]


cdef int _operands_for(_Operands *ops, Py_ssize_t n, _StackOperands *stack) except -1:
    """Points ops at stack, or at one allocated block where n inputs do not fit
    (free it with _free_operands)."""
    cdef char *block
    if n <= STACK_INPUTS:
        ops.numbers, ops.int_numbers = stack.numbers, stack.int_numbers
        ops.nodes, ops.weights = stack.nodes, stack.weights
        return 0
    block = <char *>malloc(n * (sizeof(double) + sizeof(int) + 2 * sizeof(tg_node *)))
    if block is NULL:
        raise MemoryError()
    ops.numbers = <double *>block
    ops.nodes = <tg_node **>(block + n * sizeof(double))
    ops.weights = ops.nodes + n
    ops.int_numbers = <int *>(ops.weights + n)
    return 0


cdef inline void _free_operands(_Operands *ops, _StackOperands *stack) noexcept:
    if ops.numbers is not stack.numbers:
        free(ops.numbers)


cdef int _read_inputs(tuple xs, Py_ssize_t n, _Operands *ops) except -1:
    """Reads xs[:n] before anything is recorded (reading a number may run
    Python code, which must not run while unrooted nodes are being recorded).
    Returns 0 if some input is neither a Value nor a real number."""
    cdef Py_ssize_t i
    cdef int kind
    for i in range(n):
        x = xs[i]
        if isinstance(x, Value):
            _check(<Value>x)
            ops.nodes[i] = (<Value>x).node
            ops.int_numbers[i] = False
        else:
            ops.nodes[i] = NULL
            kind = _as_number(x, &ops.numbers[i])
            if kind == NOT_A_NUMBER:
                return 0
            ops.int_numbers[i] = kind == INTEGER
    return 1


cdef int _read_weights(object ws, Py_ssize_t n, tg_node **nodes) except -1:
    """nodes[i] = the node of ws[i], for ws[:n] a list or a tuple: 1 if they are
    all Values (raises for an uninitialised one), else 0."""
    cdef Py_ssize_t i
    cdef bint is_list = type(ws) is list
    cdef PyObject *w
    for i in range(n):
        w = PyList_GET_ITEM(ws, i) if is_list else PyTuple_GET_ITEM(ws, i)
        if type(<object>w) is not Value:    # Value is final: no subclass to allow for
            return 0
        _check(<Value>w)
        nodes[i] = (<Value>w).node
    return 1


cdef tg_node *_neuron_node(tg_node *bias, const _Operands *ops, Py_ssize_t n,
                           bint relu) except NULL:
    """b + w0*x0 + w1*x1 + ..., in micrograd's order, and relu where asked, of
    inputs read by _read_inputs and weights read by _read_weights."""
    cdef tg_node *acc = NULL
    if tg_record_neuron(&_tape, bias, ops.weights, ops.nodes, ops.numbers, ops.int_numbers,
                        <uint32_t>n, relu, &acc) == TG_OK:
        return acc
    # an error, or a neuron too wide for one segment: op by op, which raises
    # what the op that failed raises
    acc = bias
    for i in range(n):
        if ops.nodes[i] is not NULL:
            product = _binary_node(TG_OP_MUL, ops.weights[i], ops.nodes[i])
        else:
            product = _const_node(TG_OP_MUL, ops.weights[i], ops.numbers[i],
                                  ops.int_numbers[i])
        acc = _binary_node(TG_OP_ADD, acc, product)
    return _relu_node(acc) if relu else acc


def weighted_sum(w, x, start):
    """``sum((wi*xi for wi, xi in zip(w, x)), start)``, recorded natively where
    start is a Value (for a number, Python's sum)."""
    cdef _StackOperands stack
    cdef _Operands ops
    cdef Py_ssize_t n
    ws = tuple(w)
    xs = tuple(x)
    if type(start) is not Value:
        return sum((a * b for a, b in zip(ws, xs)), start)
    _check(<Value>start)
    n = min(len(ws), len(xs))
    _operands_for(&ops, n, &stack)
    try:
        if not _read_inputs(xs, n, &ops) or not _read_weights(ws, n, ops.weights):
            return sum((a * b for a, b in zip(ws, xs)), start)
        return _handle_of(_neuron_node((<Value>start).node, &ops, n, False))
    finally:
        _free_operands(&ops, &stack)


# nn.micrograd's classes, and what they define of the methods the native
# paths stand in for: one replaced on the class later is called again
cdef dict _native_methods = {}


def _runs_natively(cls):
    """Registers one of nn.micrograd's classes (a class decorator)."""
    _native_methods[cls] = {name: cls.__dict__[name] for name in ('__call__', 'parameters')
                            if name in cls.__dict__}
    return cls


cdef bint _native(type cls, str method, tuple attributes):
    """Whether the native path may stand in for cls.method and read these
    attributes of its instances from their __dict__: the method is still the
    one registered (a class nn.micrograd did not register, the caller vouches
    for), attribute access is the generic one (no __getattribute__ or
    __getattr__), and no data descriptor (a property) has one of those names."""
    cdef PyObject *found
    if (<PyTypeObject *>cls).tp_getattro is not <void *>PyObject_GenericGetAttr:
        return False
    methods = _native_methods.get(cls)
    if methods is not None and method in methods:
        found = _PyType_Lookup(<PyTypeObject *>cls, method)
        if found is NULL or <object>found is not methods[method]:
            return False
    for name in attributes:
        found = _PyType_Lookup(<PyTypeObject *>cls, name)
        if found is not NULL and Py_TYPE(found).tp_descr_set is not NULL:
            return False
    return True


def layer_forward(neurons, x, type neuron_type not None):
    """``[n(x) for n in neurons]``, recorded natively for the neurons of
    neuron_type (micrograd's Neuron: n.w, n.b, n.nonlin); the others are called."""
    return _layer_forward(neurons, x, neuron_type, _native(neuron_type, '__call__', _NEURON),
                          NULL, -1, NULL)


def mlp_forward(layers, x, type layer_type not None, type neuron_type not None):
    """``for layer in layers: x = layer(x)``, where a layer of layer_type
    (micrograd's Layer: its neurons in layer.neurons, of neuron_type) runs
    natively as layer_forward and gives its one output alone, as micrograd's
    Layer does; the other layers are called.

    Between two such layers the outputs stay nodes: only the last layer's get
    handles (a hidden output's handle is made if someone asks, by _prev). No
    handle roots the others, so the tape does not collect while it records
    them; it may around each call into Python, by when they have handles."""
    global _collection_holds
    cdef bint plain = _native(layer_type, '__call__', ('neurons',))
    cdef bint native_neurons = _native(neuron_type, '__call__', _NEURON)
    cdef dict attrs
    cdef _Outputs hidden        # the last layer's outputs, where they stayed nodes
    cdef Py_ssize_t nhidden = -1
    hidden.nodes = NULL
    _collection_holds += 1
    try:
        for layer in layers:
            neurons = None
            if plain and type(layer) is layer_type:
                attrs = PyObject_GenericGetDict(layer, NULL)
                neurons = attrs.get('neurons')
            if neurons is None:
                x = _call_unheld(layer, _hidden_values(&hidden, nhidden) if nhidden >= 0 else x)
                nhidden = -1
                continue
            out = _layer_forward(neurons, x, neuron_type, native_neurons, &hidden, nhidden,
                                 &nhidden)
            if out is None:     # every output a node, in hidden: nhidden of them
                continue
            nhidden = -1
            x = out[0] if len(out) == 1 else out
        return _hidden_values(&hidden, nhidden) if nhidden >= 0 else x
    finally:
        _free_outputs(&hidden)
        _collection_holds -= 1
        if _tape.collect_due and not _collection_holds:
            _collect()


cdef object _call_unheld(f, x):
    """f(x), called by mlp_forward with its hold on the collection let go:
    every node it had recorded has a handle by then, and Python that runs
    long, or in other threads meanwhile, must not keep the tape from
    collecting."""
    global _collection_holds
    _collection_holds -= 1
    try:
        return f(x)
    finally:
        _collection_holds += 1


cdef str _W = 'w', _B = 'b', _NONLIN = 'nonlin'
cdef tuple _NEURON = (_W, _B, _NONLIN)     # the attributes layer_forward reads


# Where w, b and nonlin began in the last Neuron's dict: every Neuron made by one
# __init__ holds its attributes in one order, so the next walk starts there and
# reads three entries instead of passing the Module's registries first.
cdef Py_ssize_t _attributes_start = 0


cdef int _walk_attributes(dict attrs, Py_ssize_t pos, PyObject **w, PyObject **b,
                          PyObject **nonlin, Py_ssize_t *first) noexcept:
    """attrs' entries from the walk position pos on, until w, b and nonlin are
    found (keys compared by identity): how many were; *first, where the first
    of them was."""
    cdef PyObject *key
    cdef PyObject *value
    cdef Py_ssize_t before
    cdef int found = 0
    w[0] = b[0] = nonlin[0] = NULL
    while found < 3:
        before = pos
        if not PyDict_Next(attrs, &pos, &key, &value):
            break
        if key == <PyObject *>_W:
            w[0] = value
        elif key == <PyObject *>_B:
            b[0] = value
        elif key == <PyObject *>_NONLIN:
            nonlin[0] = value
        else:
            continue
        if found == 0:
            first[0] = before
        found += 1
    return found


cdef void _neuron_attributes(dict attrs, PyObject **w, PyObject **b,
                             PyObject **nonlin) noexcept:
    """attrs['w'], ['b'], ['nonlin'], borrowed (NULL where missing), in one
    walk over a Neuron's few attributes: its keys are the interned names,
    which compare by identity; a key that is not gets a look-up."""
    global _attributes_start
    cdef Py_ssize_t first = 0
    if (_walk_attributes(attrs, _attributes_start, w, b, nonlin, &first) == 3
            or _walk_attributes(attrs, 0, w, b, nonlin, &first) == 3):
        _attributes_start = first
        return
    # not there, or under a key that is equal but not the same object
    w[0] = PyDict_GetItem(attrs, _W)
    b[0] = PyDict_GetItem(attrs, _B)
    nonlin[0] = PyDict_GetItem(attrs, _NONLIN)


cdef struct _Outputs:
    # the output nodes of a layer, on the C stack where they fit
    tg_node **nodes
    Py_ssize_t capacity
    tg_node *stack[STACK_INPUTS]


cdef int _outputs_for(_Outputs *outputs, Py_ssize_t n) except -1:
    """Room in outputs for n nodes."""
    if outputs.nodes is NULL:
        outputs.nodes, outputs.capacity = outputs.stack, STACK_INPUTS
    if n <= outputs.capacity:
        return 0
    _free_outputs(outputs)
    outputs.nodes = <tg_node **>malloc(n * sizeof(tg_node *))
    if outputs.nodes is NULL:
        outputs.nodes, outputs.capacity = outputs.stack, STACK_INPUTS
        raise MemoryError()
    outputs.capacity = n
    return 0


cdef inline void _free_outputs(_Outputs *outputs) noexcept:
    if outputs.nodes is not NULL and outputs.nodes is not outputs.stack:
        free(outputs.nodes)
    outputs.nodes = NULL


cdef list _hidden_values(const _Outputs *hidden, Py_ssize_t n):
    """The handles of a layer's n output nodes, kept in hidden."""
    return [_handle_of(hidden.nodes[i]) for i in range(n)]


cdef object _layer_forward(neurons, x, type neuron_type, bint plain, _Outputs *hidden,
                           Py_ssize_t nhidden, Py_ssize_t *nkept):
    """layer_forward, told whether neuron_type may run natively (_native).

    Where nhidden >= 0, the inputs are the nhidden nodes in hidden (x is
    unused). With nkept, a layer of two or more neurons that all record
    natively leaves its output nodes in hidden, says how many in *nkept and
    returns None (the caller holds the collection: no handle roots them);
    otherwise it returns the outputs, as handles."""
    cdef PyObject *w_attr
    cdef PyObject *b_attr
    cdef PyObject *nonlin_attr
    cdef _StackOperands stack
    cdef _Operands ops
    cdef Py_ssize_t n, nx, j
    cdef Py_ssize_t room = 0        # outputs hidden can keep while out is None
    cdef list out = None
    cdef tg_node *node
    cdef Value bias
    if nhidden >= 0:
        xs = None           # made from the nodes if a neuron is called
        nx = nhidden
    else:
        xs = tuple(x)
        if type(x) is not list:
            x = xs      # an iterator is read once: every neuron gets the same inputs
        nx = len(xs)
    _operands_for(&ops, nx, &stack)
    try:
        if nhidden >= 0:
            memcpy(ops.nodes, hidden.nodes, nx * sizeof(tg_node *))
        elif not _read_inputs(xs, nx, &ops):
            return [neuron(x) for neuron in neurons]
        # one output is given alone: the next layer must see that
        if nkept is not NULL and type(neurons) is list and len(<list>neurons) >= 2:
            room = len(<list>neurons)
            _outputs_for(hidden, room)
        else:
            out = []
        j = 0
        for neuron in neurons:
            node = NULL
            if type(neuron) is neuron_type and plain:
                # no Python runs from here until the neuron is recorded: the
                # attributes come from the instance's own dict (the class has no
                # property of those names), and only a bool or an int is a nonlin
                _neuron_attributes(PyObject_GenericGetDict(neuron, NULL), &w_attr, &b_attr,
                                   &nonlin_attr)
                # a nonlin of another type is called: micrograd takes its truth
                # value after the sum, and it may run Python
                if (w_attr is not NULL and b_attr is not NULL and nonlin_attr is not NULL
                        and (type(<object>w_attr) is list or type(<object>w_attr) is tuple)
                        and type(<object>b_attr) is Value
                        and (type(<object>nonlin_attr) is bool
                             or type(<object>nonlin_attr) is int)):
                    ws = <object>w_attr
                    bias = <Value>b_attr
                    relu = True if <object>nonlin_attr else False
                    n = min(len(ws), nx)
                    if _read_weights(ws, n, ops.weights):
                        _check(bias)
                        node = _neuron_node(bias.node, &ops, n, relu)
            if out is None and node is not NULL and j < room:
                hidden.nodes[j] = node
            else:
                if out is None:     # a neuron to call, or more neurons than there was room for
                    out = _hidden_values(hidden, j)
                if node is not NULL:
                    out.append(_handle_of(node))
                else:
                    # called: which raises what a missing attribute raises, and
                    # reads an iterator of weights once
                    if xs is None:      # the handles in xs root the inputs, whatever x becomes
                        xs = tuple([_handle_of(ops.nodes[k]) for k in range(nx)])
                        x = list(xs)
                    out.append(neuron(x) if nkept is NULL else _call_unheld(neuron, x))
            j += 1
        if out is None and j < 2:   # fewer neurons than when it began: one is given alone
            out = _hidden_values(hidden, j)
        if out is None:
            nkept[0] = j
        return out
    finally:
        _free_operands(&ops, &stack)


def mlp_parameters(layers, type layer_type not None, type neuron_type not None):
    """``[p for layer in layers for p in layer.parameters()]`` for micrograd's
    Layers (each neuron's weights, then its bias), in one native call; layers
    and neurons of other types are asked for theirs."""
    cdef list out = []
    cdef bint native_layers = _native(layer_type, 'parameters', ())
    cdef bint native_neurons = _native(neuron_type, 'parameters', ())
    for layer in layers:
        if type(layer) is not layer_type or not native_layers:
            out.extend(layer.parameters())
            continue
        for neuron in layer.neurons:
            ws = neuron.w if type(neuron) is neuron_type and native_neurons else None
            if type(ws) is list:
                out.extend(<list>ws)
                out.append(neuron.b)
            else:
                out.extend(neuron.parameters())
    return out


def zero_value_grads(params):
    """Sets the grad of every Value in params to 0.0, as ``p.grad = 0`` does,
    in one native call; returns the other items, in order, for the caller."""
    cdef list others = []
    for p in params:
        if type(p) is Value:    # final: no subclass
            _check(<Value>p)
            (<Value>p).node.grad = 0.0
        else:
            others.append(p)
    return others
