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


def svm_loss(model, X, y, Value, alpha=1e-4):
    """mean(relu(1 - y*score)) + alpha * sum(p*p), and the accuracy."""
    inputs = [list(map(Value, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    accuracy = [(yi > 0) == (score.data > 0) for yi, score in zip(y, scores)]
    return data_loss + reg_loss, sum(accuracy) / len(accuracy)


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


def train(model, X, y, Value, steps=100, report=None):
    """Runs the steps; calls report(step, loss, accuracy, seconds) after each
    one and returns the list of losses."""
    losses = []
    for k in range(steps):
        start = time.perf_counter()
        loss, accuracy = sgd_step(model, X, y, Value, k)
        seconds = time.perf_counter() - start
        losses.append(loss)
        if report is not None:
            report(k, loss, accuracy, seconds)
    return losses


def run(steps=100, every=10):
    """Trains micrograd's MLP(2, [16, 16, 1]) on the moons and prints progress."""
    from tapegrad.engine import Value
    from tapegrad.nn import MLP

    X, y = moons()
    model = MLP(2, [16, 16, 1])
    print(f"{model}\n{len(model.parameters())} parameters, {len(X)} points")
    times = []

    def report(k, loss, accuracy, seconds):
        times.append(seconds)
        if k % every == 0 or k == steps - 1:
            print(f"step {k:3d}  loss {loss:.6f}  accuracy {accuracy * 100:.0f}%  "
                  f"{seconds * 1e3:.2f} ms/step")

    train(model, X, y, Value, steps, report)
    print(f"median {np.median(times) * 1e3:.2f} ms/step over {steps} steps")
    return model
