"""Seed 004: forward propagation through an XOR network, and the gradients
of f = w*x + b, which are x, w and 1.
"""
import random

from _common import output_dir, picture

from tapegrad import Value
from tapegrad.nn import MLP

out = output_dir(__doc__)

w, x, b = Value(3.0, label="w"), Value(-2.0, label="x"), Value(0.5, label="b")
g = w * x
g.label = "g = w*x"
f = g + b
f.label = "f"
f.backward()
print(f"f = w*x + b = {f.data:g}: df/dw = {w.grad:g} (= x), df/dx = {x.grad:g} (= w), "
      f"df/db = {b.grad:g}")
picture(f, out, "seed_004_affine")

random.seed(0)
model = MLP(2, [8, 1])
table = [((0.0, 0.0), -1.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), -1.0)]
for step in range(300):
    loss = sum(((model(list(inputs)) - target) ** 2 for inputs, target in table), Value(0.0))
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= 0.05 * p.grad
print(f"XOR after 300 steps, loss {loss.data:.6f}")
print(" x1  x2 | hidden (first 4 of 8)              | output  XOR")
hidden_layer, output_layer = model.layers
for inputs, target in table:
    hidden = hidden_layer(list(inputs))
    output = output_layer(hidden)
    print(f"{inputs[0]:3.0f} {inputs[1]:3.0f} | "
          + " ".join(f"{h.data:7.3f}" for h in hidden[:4])
          + f" | {output.data:6.3f}  {int(output.data > 0)}")
