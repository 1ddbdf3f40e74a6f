"""Learning PyTorch with Examples, "Control flow + weight sharing": DynamicNet, whose
forward reuses the parameter e for a random number (4 or 5) of extra terms
(dynamic_net.py). Python's random, seeded alike, picks the same depths in both runs."""
import math
import random

from tutorial_run import needs, run_both


def dynamic_net(run, iterations):
    torch = run.lib
    depths = random.Random(0)

    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(run.randn())
            self.b = torch.nn.Parameter(run.randn())
            self.c = torch.nn.Parameter(run.randn())
            self.d = torch.nn.Parameter(run.randn())
            self.e = torch.nn.Parameter(run.randn())

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, depths.randint(4, 6)):
                y = y + self.e * x ** exp
            return y

        def string(self):
            return (f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + '
                    f'{self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?')

    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(iterations):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 200 == 199:
            run.print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    run.print("Result:", *(p.item() for p in model.parameters()))


@needs("sin")
def test_dynamic_net_prints_torchs_losses():
    run_both(dynamic_net, iterations=600, rtol=1e-3)
