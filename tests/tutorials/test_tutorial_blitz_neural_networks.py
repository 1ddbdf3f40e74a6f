"""The 60-minute blitz, "Neural Networks" (neural_networks_tutorial.py): LeNet, a
backward of random gradients, the MSE loss and its grad_fn chain, the manual update
and the SGD step."""
import pytest

import tapegrad as tg
from tutorial_run import needs, run_both


def blitz_neural_networks(run):
    torch = run.lib
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, input):
            c1 = F.relu(self.conv1(input))
            s2 = F.max_pool2d(c1, (2, 2))
            c3 = F.relu(self.conv2(s2))
            s4 = F.max_pool2d(c3, 2)
            s4 = torch.flatten(s4, 1)
            f5 = F.relu(self.fc1(s4))
            f6 = F.relu(self.fc2(f5))
            output = self.fc3(f6)
            return output

    net = run.init(Net())
    run.text(str(net))
    params = list(net.parameters())
    run.print(len(params))
    run.print(params[0].size())

    input = run.randn(1, 1, 32, 32)
    out = net(input)
    run.print(out)
    net.zero_grad()
    out.backward(run.randn(1, 10))

    output = net(input)
    target = run.randn(10)
    target = target.view(1, -1)
    criterion = nn.MSELoss()
    loss = criterion(output, target)
    run.print(loss)
    run.print(loss.grad_fn.name())
    run.print(loss.grad_fn.next_functions[0][0].name())
    run.print(loss.grad_fn.next_functions[0][0].next_functions[0][0].name())

    net.zero_grad()
    run.text('conv1.bias.grad before backward')
    run.print(net.conv1.bias.grad)
    loss.backward()
    run.text('conv1.bias.grad after backward')
    run.print(net.conv1.bias.grad)

    learning_rate = 0.01
    for f in net.parameters():
        f.data.sub_(f.grad.data * learning_rate)

    optim = torch.optim                    # import torch.optim as optim
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    optimizer.zero_grad()
    output = net(input)
    loss = criterion(output, target)
    loss.backward()
    optimizer.step()
    run.print(loss, net(input))


@needs("nn.functional.max_pool2d")
def test_blitz_neural_networks_prints_torchs_values():
    if not hasattr(tg.nn, "Conv2d"):
        pytest.skip("tapegrad.nn has no Conv2d yet (another part of issue 12 adds it)")
    run_both(blitz_neural_networks)
