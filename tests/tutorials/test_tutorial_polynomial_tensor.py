"""Learning PyTorch with Examples, "Tensors": a third-order polynomial fitted to sin(x)
with gradients written by hand (polynomial_tensor.py)."""
import math

from tutorial_run import needs, run_both


def polynomial_tensor(run, iterations):
    torch = run.lib
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    # torch.randn((), device=device, dtype=dtype), drawn once for both libraries
    a, b, c, d = (run.randn() for _ in range(4))
    learning_rate = 1e-6
    for t in range(iterations):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum().item()
        if t % 100 == 99:
            run.print(t, loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_a = grad_y_pred.sum()
        grad_b = (grad_y_pred * x).sum()
        grad_c = (grad_y_pred * x ** 2).sum()
        grad_d = (grad_y_pred * x ** 3).sum()
        a -= learning_rate * grad_a
        b -= learning_rate * grad_b
        c -= learning_rate * grad_c
        d -= learning_rate * grad_d
    run.print("Result: y =", a.item(), "+", b.item(), "x +", c.item(), "x^2 +", d.item(), "x^3")


@needs("sin")
def test_polynomial_tensor_prints_torchs_losses():
    run_both(polynomial_tensor, iterations=500, rtol=1e-3)
