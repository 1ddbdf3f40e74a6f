"""Learning PyTorch with Examples, the nn programs: the polynomial fit with nn.Sequential
and manual updates (polynomial_nn.py), with an optimizer (polynomial_optim.py), and as a
custom nn.Module (polynomial_module.py)."""
import math

from tutorial_run import needs, run_both


def polynomial_nn(run, iterations):
    torch = run.lib
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    run.init(model)
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    for t in range(iterations):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            run.print(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    run.print("Result: y =", linear_layer.bias.item(), "+", linear_layer.weight[:, 0].item(),
              "x +", linear_layer.weight[:, 1].item(), "x^2 +",
              linear_layer.weight[:, 2].item(), "x^3")


def polynomial_optim(run, iterations):
    torch = run.lib
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1)
    )
    run.init(model)
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(iterations):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            run.print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    linear_layer = model[0]
    run.print("Result: y =", linear_layer.bias.item(), "+", linear_layer.weight[:, 0].item(),
              "x +", linear_layer.weight[:, 1].item(), "x^2 +",
              linear_layer.weight[:, 2].item(), "x^3")


def polynomial_module(run, iterations):
    torch = run.lib

    class Polynomial3(torch.nn.Module):
        def __init__(self):
            super().__init__()
            # torch.randn(()) each, drawn once for both libraries
            self.a = torch.nn.Parameter(run.randn())
            self.b = torch.nn.Parameter(run.randn())
            self.c = torch.nn.Parameter(run.randn())
            self.d = torch.nn.Parameter(run.randn())

        def forward(self, x):
            return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                    f'{self.d.item()} x^3')

    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(iterations):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            run.print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    run.print("Result:", model.a.item(), model.b.item(), model.c.item(), model.d.item())
    run.print(len(model.string()) > 0)


@needs("sin")
def test_polynomial_nn_prints_torchs_losses():
    run_both(polynomial_nn, iterations=500, rtol=1e-3)


@needs("sin")
def test_polynomial_optim_prints_torchs_losses():
    run_both(polynomial_optim, iterations=300, rtol=1e-3)


@needs("sin")
def test_polynomial_module_prints_torchs_losses():
    run_both(polynomial_module, iterations=500, rtol=1e-3)
