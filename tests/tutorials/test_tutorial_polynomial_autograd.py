"""Learning PyTorch with Examples, "Autograd": the polynomial fit with loss.backward()
and updates under no_grad (polynomial_autograd.py)."""
import math

from tutorial_run import needs, run_both


def polynomial_autograd(run, iterations):
    torch = run.lib
    dtype = torch.float
    device = (torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
              else "cpu")
    run.print(f"Using {device} device")
    torch.set_default_device(device)
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = torch.sin(x)
    a, b, c, d = (run.randn(requires_grad=True) for _ in range(4))
    learning_rate = 1e-6
    for t in range(iterations):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            run.print(t, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    run.print(f"Result: y = {a.item():.3f} + {b.item():.3f} x + {c.item():.3f} x^2 + "
              f"{d.item():.3f} x^3")


@needs("sin")
def test_polynomial_autograd_prints_torchs_losses():
    run_both(polynomial_autograd, iterations=500, rtol=1e-3)
