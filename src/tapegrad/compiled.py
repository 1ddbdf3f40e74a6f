"""tapegrad.compile: record a scalar loss function once, replay it in C.

A training step with it::

    step = tapegrad.compile(loss_fn)
    loss = step(*args)          # first call: loss_fn runs eagerly and is recorded
    model.zero_grad()           # later calls: the recording is replayed in C
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
"""
import numbers

import numpy as np

from tapegrad import _engine
from tapegrad.engine import Value

__all__ = ["compile", "Compiled"]

# Recordings kept per compiled function: two, so that the call after one whose
# result the user still holds (`loss = step()` holds it during the next call)
# replays too.
_KEPT = 2


def compile(loss_fn, optimizer=None):
    """Returns loss_fn, recorded on its first call and replayed natively after.

    ``loss_fn(*args, **kwargs)`` must return a Value, or a list, tuple or dict of
    Values (other items are returned as they were recorded). A replay gives
    the same IEEE doubles as running loss_fn eagerly on the same inputs, for
    the outputs and for every gradient backward() then gives; the Values it
    returns are eager Values (.data, .grad, backward(), _prev, draw_dot).

    What a recording captures, and what makes it record again
    ----------------------------------------------------------
    Like jax.jit, compile traces Python once and replays what it saw:

    * **Inputs, read at every replay**: Values that existed before the call
      (parameters, held by the model or a closure), and Values passed in
      ``args`` (directly or inside lists, tuples and dicts). Setting their
      ``.data`` between calls is how minibatches replay at full speed.
    * **Constants, baked in**: numbers that loss_fn turns into Values (``Value(x)``,
      ``v * 2.0``, a row of a numpy array), and every other number it reads
      from globals or closures.
    * **The key of a recording**: the arguments. Numbers, strings, lists,
      tuples, dicts and numpy arrays are compared by value, Values by the
      node they stand for, other objects by identity. Different arguments
      record again (several recordings are kept, so two alternating full
      batches both replay).
    * **Value-dependent Python** is not replayed: a recording during which a
      Value's ``.data`` or ``.grad`` was read (``if v.data > 0:``, an
      accuracy count) may have taken a branch that other numbers would not
      take, so every call of such a function runs it eagerly again
      (``step.value_dependent`` says so). ``bool(v)`` and ``v > 0`` read no
      number (a Value has no truth value or ordering, as in micrograd).
    * **Not replayable**: custom nodes, Values made with ``_children`` or given
      a Python ``_backward``: the first call raises TypeError.
    * **Records again**: a call whose replay would raise (a math domain
      error, say) runs loss_fn eagerly, which may catch it; a failed
      operation during a recording makes it value-dependent, as an except
      clause may branch on it. A call that keeps a Value it made other than
      its outputs (a global list, say), or returns a leaf it made, is not
      replayed. Giving a recorded Value a Python ``_backward`` makes the next
      call record again; if a parameter or an argument Value got it, that
      recording cannot replay either, and the function runs eagerly from then
      on (``step.runs_eagerly``), calling the closure as eager backward does.
      A compiled function called while another records
      (in the same thread) runs eagerly, so the outer recording holds its
      operations. Reads in other threads are not the recording's control flow.
    * **Not tracked**: the code of loss_fn and of the objects it calls. If it
      would now use other Values (a new model, a parameter replaced rather
      than updated), compile a fresh function.
    * **Dropped, as jax.jit drops them**: operations no output depends on. A
      replay does not run them, so one that would raise on the new inputs
      (``(w * 1000).exp()`` computed and never used) raises eagerly but not
      in a replay.
    * **NaN bits**: a NaN is a NaN in both, but when both operands of ``+``
      or ``*`` are NaNs of different signs, which one comes out is the
      compiler's choice, and a replay may give the other sign.

    A call never changes a Value the caller still holds: when the outputs of
    a recording (or a Value taken from its graph, with _prev say, or kept from
    inside the recorded call) are still referred to, the next call uses
    another recording, or records a new one.

    A replay writes its outputs, and the first ``loss.backward()`` on an
    output after it runs over the recording's flat arrays in C (a second one
    runs eagerly on the written-back graph); the rest of the graph is written
    into its Values only when something could see it (``_prev``, an eager
    op or backward that reaches it), so it always reads as eager. An eager
    backward that cannot reach a replayed graph leaves it unwritten.
    ``step.recordings`` and ``step.replays`` count what the calls did.

    A fused training step
    ---------------------
    With ``optimizer=tapegrad.optim.SGD(params, lr=...)`` (plain SGD: no
    momentum, weight decay or maximize), each call is a whole training step:
    the forward, zero_grad of the optimizer's parameters, backward and
    ``p.data -= lr * p.grad``, all in one native pass. loss_fn must return one
    Value; the call returns its number (the loss before the update). The
    parameters' data and grad are the bits of the plain Python step; the lr
    is read from the optimizer's groups at every call, so schedules work.
    """
    if not callable(loss_fn):
        raise TypeError(f"compile() expects a callable, not {type(loss_fn).__name__}")
    if optimizer is not None:
        _check_fusable(optimizer)
    return Compiled(loss_fn, optimizer)


def _check_fusable(optimizer):
    from tapegrad.optim import SGD
    if type(optimizer) is not SGD:
        raise TypeError("compile(optimizer=) fuses tapegrad.optim.SGD only, "
                        f"not {type(optimizer).__name__}")
    _check_plain(optimizer.param_groups)
    for group in optimizer.param_groups:
        if not all(isinstance(p, Value) for p in group["params"]):
            raise TypeError("compile(optimizer=) fuses an SGD over Values")


def _check_plain(groups):
    """Raises unless every group is plain SGD: checked at each call too, since a group's
    options can change after compile() (the fused step would silently ignore them)."""
    for i, group in enumerate(groups):
        on = [name for name in ("momentum", "weight_decay", "maximize") if group.get(name)]
        if on:
            raise ValueError("compile(optimizer=) fuses plain SGD: momentum, weight_decay "
                             f"and maximize must be off, and param group {i} has "
                             + ", ".join(f"{name}={group[name]!r}" for name in on))


class _Output:
    """The place of an output Value in the returned structure."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


class _Entry:
    """A recording, with what selects it and what it returns."""
    __slots__ = ("key", "keep", "recording", "template", "single")

    def __init__(self, key, keep, recording, template):
        self.key = key
        self.keep = keep              # the arguments, so identity keys stay unique
        self.recording = recording
        self.template = template
        self.single = type(template) is _Output


class Compiled:
    """A compiled loss function, as compile(loss_fn, optimizer=None) returns it: call it
    as the function itself. recordings and replays count what its calls did."""

    def __init__(self, loss_fn, optimizer=None):
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.recordings = 0
        self.replays = 0
        self.value_dependent = False
        self.runs_eagerly = False       # a parameter got a Python _backward after a recording
        self._entries = []
        self.__wrapped__ = loss_fn
        self.__doc__ = getattr(loss_fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        if _engine._recording_now():
            # inside another compiled function's recording: run, so that it
            # records these operations as its own
            return self.loss_fn(*args, **kwargs)
        # (a 3-tuple with kwargs: never equal to the 2-tuple key of a tuple alone)
        key = _key(args) if not kwargs else (dict, _key(args), _key(kwargs))
        if self.optimizer is not None:
            return self._train_step(key, args, kwargs)
        for entry in list(self._entries):
            if entry.key != key:
                continue
            try:
                # one step, check and replay: two threads cannot both take it
                outputs = entry.recording.replay_if_free()
            except (ArithmeticError, ValueError):
                # eager Python meets the same error, and may catch it
                return self._record(key, args, kwargs)
            if outputs is not None:
                self.replays += 1
                if entry.single:
                    return outputs[0]
                return _rebuild(entry.template, outputs)
        return self._record(key, args, kwargs)

    def _record(self, key, args, kwargs):
        sentinel = _engine._begin_recording()
        # after it: making the sentinel may collect, which frees dead leaves'
        # slots for the call's new constants; none is freed from here on
        old_leaves = _engine._leaf_addresses()
        try:
            result = self.loss_fn(*args, **kwargs)
        finally:
            reads = _engine._end_recording()
        self.recordings += 1
        if reads:
            self.value_dependent = True
        if self.value_dependent or self.runs_eagerly:
            self._entries.clear()
            return result
        outputs = []
        template = _template(result, outputs, {})
        if not outputs:
            raise TypeError("tapegrad.compile: the function must return a Value, or a list, "
                            f"tuple or dict of Values, not {type(result).__name__}")
        try:
            recording = _engine._Recording(sentinel, outputs, old_leaves)
        except _engine.NotReplayable:
            if not self._entries:
                raise           # the first recording: say so, at compile time
            # an input got a Python _backward after it replayed: eager calls it
            self.runs_eagerly = True
            self._entries.clear()
            return result
        del outputs, sentinel
        if not recording.replayable:
            return result       # the next call records again
        if len(self._entries) >= _KEPT:
            self._entries.pop(0)
        self._entries.append(_Entry(key, (args, kwargs), recording, template))
        return result

    def _train_step(self, key, args, kwargs):
        """forward, zero_grad, backward, SGD: fused when a recording can replay."""
        groups = self.optimizer.param_groups
        _check_plain(groups)
        for entry in list(self._entries):
            if entry.key == key and entry.single:
                try:
                    # None: in use, busy in another thread (a fused step holds no Value)
                    loss = entry.recording.step_sgd_if_free(groups)
                except (ArithmeticError, ValueError):
                    break       # the Python step below meets it, as eager would
                if loss is not None:
                    self.replays += 1
                    return loss
        params = [p for group in groups for p in group["params"]]
        lrs = [float(group["lr"]) for group in groups for _ in group["params"]]
        loss = self._record(key, args, kwargs)
        if not isinstance(loss, Value):
            raise TypeError("compile(optimizer=): the function must return one Value, "
                            f"not {type(loss).__name__}")
        if self._entries and not self._entries[-1].recording.fusable():
            self._entries.pop()
            raise TypeError("compile(optimizer=): the loss must be an operation of the "
                            "function, on leaf Values only")
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p, lr in zip(params, lrs):
            p.data -= lr * p.grad
        return loss.data

    def __repr__(self):
        return f"tapegrad.compile({getattr(self.loss_fn, '__name__', self.loss_fn)!r})"


def _template(result, outputs, seen):
    """result with each Value replaced by its _Output place; Values go to outputs."""
    if isinstance(result, Value):
        address = _engine._node_address(result)
        if address not in seen:
            seen[address] = _Output(len(outputs))
            outputs.append(result)
        return seen[address]
    if type(result) in (list, tuple):
        return type(result)(_template(item, outputs, seen) for item in result)
    if type(result) is dict:
        return {name: _template(item, outputs, seen) for name, item in result.items()}
    return result


def _rebuild(template, outputs):
    if type(template) is _Output:
        return outputs[template.index]
    if type(template) in (list, tuple):
        return type(template)(_rebuild(item, outputs) for item in template)
    if type(template) is dict:
        return {name: _rebuild(item, outputs) for name, item in template.items()}
    return template


def _key(x):
    """What a recording depends on in an argument, as a comparable value."""
    kind = type(x)
    if kind is Value:
        return _engine._node_address(x)
    if kind is float:
        return (float, x.hex())          # tells -0.0 from 0.0, and nan equals itself
    if kind is int or kind is bool or kind is str or x is None:
        return (kind, x)
    if kind is list or kind is tuple:
        return (kind, tuple([_key(item) for item in x]))
    if kind is dict:
        return (dict, tuple([(name, _key(item)) for name, item in x.items()]))
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            return (np.ndarray, x.shape, tuple([_key(item) for item in x.ravel()]))
        return (np.ndarray, x.dtype, x.shape, x.tobytes())   # dtype: quicker than its .str
    if isinstance(x, numbers.Integral):
        return (kind, int(x))
    if isinstance(x, numbers.Real):
        return (kind, float(x).hex())
    return (object, id(x))
