"""The 60-minute blitz, "A Gentle Introduction to torch.autograd" (autograd_tutorial.py).
Its resnet18 (torchvision, downloaded weights) is replaced by a small model of the same
use: a forward, a backward of (prediction - labels).sum(), an SGD step, then a frozen
body with a new trainable `fc` head."""
from tutorial_run import run_both


def blitz_autograd(run):
    torch = run.lib
    nn, optim = torch.nn, torch.optim      # from torch import nn, optim

    class SmallNet(nn.Module):          # stands in for resnet18
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32),
                                            nn.ReLU())
            self.fc = nn.Linear(32, 1000)

        def forward(self, x):
            return self.fc(self.body(x))

    model = run.init(SmallNet())
    data = run.rand(1, 3, 8, 8)
    labels = run.rand(1, 1000)
    prediction = model(data)
    loss = (prediction - labels).sum()
    loss.backward()
    sgd = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    sgd.step()
    run.print(loss, model.fc.weight)

    a = torch.tensor([2., 3.], requires_grad=True)
    b = torch.tensor([6., 4.], requires_grad=True)
    Q = 3 * a ** 3 - b ** 2
    external_grad = torch.tensor([1., 1.])
    Q.backward(gradient=external_grad)
    run.text(str(9 * a ** 2 == a.grad))
    run.text(str(-2 * b == b.grad))

    x = run.rand(5, 5)
    y = run.rand(5, 5)
    z = run.rand(5, 5).requires_grad_()
    a = x + y
    run.text(f"Does `a` require gradients?: {a.requires_grad}")
    b = x + z
    run.text(f"Does `b` require gradients?: {b.requires_grad}")

    model = run.init(SmallNet())
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(32, 10)
    run.init(model.fc)
    optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    loss = model(data).sum()
    loss.backward()
    optimizer.step()
    run.print([name for name, p in model.named_parameters() if p.grad is not None])
    run.print(model.fc.weight, model.fc.bias)


def test_blitz_autograd_prints_torchs_values():
    run_both(blitz_autograd)
