"""micrograd's moons demo on the tapegrad scalar engine.

The same data, model, loss and schedule as micrograd's demo notebook: a
2-16-16-1 MLP of scalar Values, an SVM max-margin loss with L2, plain SGD.
"""
import random
import time

import numpy as np


def moons(n_samples=100, noise=0.1, seed=1337):
    """micrograd's data: make_moons after seeding random and numpy with 1337.

    Labels are -1 and 1, as the SVM loss wants them.
    """
    try:
        from sklearn.datasets import make_moons
    except ImportError as error:
        raise SystemExit(
            "the demo draws its data with scikit-learn: pip install 'tapegrad[demo]'"
        ) from error
    random.seed(seed)
    np.random.seed(seed)
    X, y = make_moons(n_samples=n_samples, noise=noise)
    return X, y * 2 - 1


def svm_scores(model, X, y, Value, alpha=1e-4):
    """mean(relu(1 - y*score)) + alpha * sum(p*p), and the scores. It reads no
    Value's number, so tapegrad.compile can replay it."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    return data_loss + reg_loss, scores


def accuracy_of(scores, y):
    """The fraction of scores (Values) whose sign matches the label in y (+1 or -1)."""
    right = [(yi > 0) == (score.data > 0) for yi, score in zip(y, scores)]
    return sum(right) / len(right)


def svm_loss(model, X, y, Value, alpha=1e-4):
    """mean(relu(1 - y*score)) + alpha * sum(p*p), and the accuracy."""
    total_loss, scores = svm_scores(model, X, y, Value, alpha)
    return total_loss, accuracy_of(scores, y)


def sgd_step(model, X, y, Value, k):
    """Step k: the loss, backward, and SGD with micrograd's schedule,
    lr = 1.0 - 0.9*k/100. Returns the loss and the accuracy."""
    total_loss, accuracy = svm_loss(model, X, y, Value)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, accuracy


def _progress(iterable, description, quiet):
    """A tqdm progress bar on stderr (a plain iterator when tqdm is missing or quiet)."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=description, leave=False, dynamic_ncols=True)


def _report(name, losses, accuracy, seconds, steps):
    print(f"{name:<24} loss {losses[-1]:.6f}  accuracy {accuracy * 100:5.1f}%  "
          f"{seconds / steps * 1e3:7.3f} ms/step  ({steps} steps)")


def moons_scalar(X, y, steps, quiet):
    """micrograd's demo as it is: MLP(2, [16, 16, 1]) of scalar Values, SGD."""
    from tapegrad.engine import Value
    from tapegrad.nn import MLP

    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    losses, start = [], time.perf_counter()
    for k in _progress(range(steps), "moons, scalar engine", quiet):
        loss, accuracy = sgd_step(model, X, y, Value, k)
        losses.append(loss)
    seconds = time.perf_counter() - start
    _report("moons (scalar engine)", losses, svm_loss(model, X, y, Value)[1], seconds, steps)
    return model, losses


def moons_compiled(X, y, steps, quiet):
    """The same scalar program through tapegrad.compile: the first step records
    it, the others replay it in C. Same seed, so the same bits as moons_scalar."""
    import tapegrad
    from tapegrad.engine import Value
    from tapegrad.nn import MLP

    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    step = tapegrad.compile(lambda X, y: svm_scores(model, X, y, Value))
    losses, start = [], time.perf_counter()
    for k in _progress(range(steps), "moons, compiled", quiet):
        total_loss, scores = step(X, y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        losses.append(total_loss.data)
        accuracy = accuracy_of(scores, y)
    seconds = time.perf_counter() - start
    _report("moons (scalar, compiled)", losses, accuracy, seconds, steps)
    print(f"  {step.recordings} recordings, {step.replays} replays")
    return model, losses


def moons_tensor(X, y, steps, quiet):
    """The same model and loss on the tensor engine, with torch's layers."""
    import tapegrad as tg
    from tapegrad import nn

    tg.manual_seed(1337)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 1))
    optimizer = tg.optim.SGD(model.parameters(), lr=1.0)
    inputs, targets = tg.tensor(X), tg.tensor(y, dtype=tg.float32)
    losses, start = [], time.perf_counter()
    for k in _progress(range(steps), "moons, tensor engine", quiet):
        scores = model(inputs).reshape(-1)
        data_loss = (1 - targets * scores).relu().mean()
        reg_loss = 1e-4 * sum((p * p).sum() for p in model.parameters())
        loss = data_loss + reg_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.defaults["lr"] = 1.0 - 0.9 * k / 100
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    with tg.no_grad():
        accuracy = float(((model(inputs).reshape(-1) > 0) == (targets > 0)).float().mean())
    _report("moons (tensor engine)", losses, accuracy, seconds, steps)
    return model, losses


def xor_network(steps, quiet):
    """The XOR network of the forward/back propagation post: 2 inputs, a hidden
    layer of 2 sigmoid units, a sigmoid output; then its truth table."""
    import tapegrad as tg
    from tapegrad import nn

    tg.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    optimizer = tg.optim.Adam(model.parameters(), lr=0.1)
    inputs = tg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    targets = tg.tensor([[0.0], [1.0], [1.0], [0.0]])
    loss_fn = nn.BCELoss()
    losses, start = [], time.perf_counter()
    for _ in _progress(range(steps), "XOR", quiet):
        loss = loss_fn(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    with tg.no_grad():
        hidden = model[1](model[0](inputs))
        output = model(inputs)
    predictions = (output.reshape(-1) > 0.5).long().tolist()
    accuracy = sum(p == int(t) for p, t in zip(predictions, targets.reshape(-1).tolist())) / 4
    _report("XOR (tensor engine)", losses, accuracy, seconds, steps)
    print("  x1 x2 | h1     h2     | output | XOR")
    for x, h, o, p in zip(inputs.tolist(), hidden.tolist(), output.reshape(-1).tolist(),
                          predictions):
        print(f"  {x[0]:.0f}  {x[1]:.0f}  | {h[0]:.4f} {h[1]:.4f} | {o:.4f} | {p}")
    return model, losses


def digits_classifier(epochs, quiet):
    """scikit-learn's 8x8 digits (shipped with it: no download), a 64-32-10 MLP,
    cross-entropy and Adam on minibatches; accuracy on a held-out quarter."""
    import tapegrad as tg
    from sklearn.datasets import load_digits
    from tapegrad import nn

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(X))
    split = len(X) * 3 // 4
    train, test = order[:split], order[split:]
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    batches = [train[i:i + 64] for i in range(0, len(train), 64)]
    losses, steps, start = [], 0, time.perf_counter()
    for _ in _progress(range(epochs), "digits", quiet):
        for batch in batches:
            loss = loss_fn(model(tg.from_numpy(X[batch])), tg.from_numpy(y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            steps += 1
    seconds = time.perf_counter() - start
    with tg.no_grad():
        predicted = model(tg.from_numpy(X[test])).argmax(dim=1).numpy()
    accuracy = float((predicted == y[test]).mean())
    _report("digits (tensor engine)", losses, accuracy, seconds, steps)
    return model, losses


def _plots(out, scalar_model, curves, X, y):
    """The moons decision boundary and the loss curves, as PNGs in out."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install 'tapegrad[demo]')")
        return []
    from tapegrad.engine import Value

    out.mkdir(parents=True, exist_ok=True)
    h = 0.1
    xx, yy = np.meshgrid(np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, h),
                         np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, h))
    grid = np.c_[xx.ravel(), yy.ravel()]
    scores = [scalar_model(list(map(Value, row))).data for row in grid]
    zz = (np.array(scores) > 0).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(xx, yy, zz, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set_title("moons: decision boundary of the scalar-engine MLP(2, [16, 16, 1])")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    boundary = out / "moons_decision_boundary.png"
    fig.savefig(boundary, dpi=100, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, losses in curves.items():
        ax.plot(np.arange(1, len(losses) + 1), losses, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (log scale)")
    ax.set_title("tapegrad demo: training loss")
    ax.legend()
    loss_curves = out / "loss_curves.png"
    fig.savefig(loss_curves, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [boundary, loss_curves]


def run(steps=100, xor_steps=500, digits_epochs=20, out="tapegrad-demo", quiet=False):
    """The main job: four models on both engines, their figures, their plots."""
    import pathlib

    X, y = moons()
    print(f"tapegrad demo: moons ({len(X)} points), XOR, digits; "
          f"{steps} moons steps, {xor_steps} XOR steps, {digits_epochs} digits epochs")
    total = time.perf_counter()
    scalar_model, scalar_losses = moons_scalar(X, y, steps, quiet)
    _, compiled_losses = moons_compiled(X, y, steps, quiet)
    same = "the same" if compiled_losses == scalar_losses else "NOT the same"
    print(f"  compiled and eager scalar losses: {same} bits at every step")
    _, tensor_losses = moons_tensor(X, y, steps, quiet)
    _, xor_losses = xor_network(xor_steps, quiet)
    _, digits_losses = digits_classifier(digits_epochs, quiet)
    curves = {"moons, scalar engine": scalar_losses, "moons, tensor engine": tensor_losses,
              "XOR": xor_losses, "digits": digits_losses}
    written = _plots(pathlib.Path(out), scalar_model, curves, X, y)
    if written:
        print(f"plots written to {pathlib.Path(out).resolve()}: "
              + ", ".join(p.name for p in written))
    print(f"total {time.perf_counter() - total:.1f} s")
