"""Seed 001: one node, x = 1, w = 1, y = 2, and the w * x regression loop.

y_hat = x * w = 1, s = y_hat - y = -1, loss = s**2 = 1; backward gives
dloss/ds = 2s = -2, dloss/dy_hat = -2, dloss/dw = -2 * x = -2. Then the
post's loop fits w to y = 2x, here on the scalar engine.
"""
from _common import output_dir, picture

from tapegrad import Value

out = output_dir(__doc__)
x, w, y = Value(1.0, label="x"), Value(1.0, label="w"), Value(2.0, label="y")
y_hat = x * w
y_hat.label = "y_hat"
s = y_hat - y
s.label = "s"
loss = s ** 2
loss.label = "loss"
loss.backward()
print(f"forward:  y_hat = {y_hat.data:g}, s = {s.data:g}, loss = {loss.data:g}")
print(f"backward: dloss/ds = {s.grad:g}, dloss/dy_hat = {y_hat.grad:g}, dloss/dw = {w.grad:g}")
picture(loss, out, "seed_001_loss")

w = Value(1.0, label="w")
x_data, y_data = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
print(f"predict (before training) 4 -> {(4 * w).data:.4f}")
for epoch in range(20):
    for x_val, y_val in zip(x_data, y_data):
        l = (x_val * w - y_val) * (x_val * w - y_val)
        w.grad = 0.0
        l.backward()
        w.data -= 0.01 * w.grad
    if epoch in (0, 19):
        print(f"epoch {epoch}: loss {l.data:.6f}, w {w.data:.6f}")
print(f"predict (after training) 4 -> {(4 * w).data:.4f}")
