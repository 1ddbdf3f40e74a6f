"""Seed 002: the computational graph of a shopping bill, activation
derivatives, softmax with cross-entropy, and why backpropagation beats
numerical differentiation.
"""
import math
import time

from _common import output_dir, picture

from tapegrad import Value

out = output_dir(__doc__)

# 2 apples at 100, 3 oranges at 150, 10% tax
apple, apple_count = Value(100.0, label="apple price"), Value(2.0, label="apples")
orange, orange_count = Value(150.0, label="orange price"), Value(3.0, label="oranges")
tax = Value(1.1, label="tax")
apples = apple * apple_count
apples.label = "apples cost"
oranges = orange * orange_count
oranges.label = "oranges cost"
subtotal = apples + oranges
subtotal.label = "subtotal"
price = subtotal * tax
price.label = "price"
price.backward()
print(f"price = {price.data:.1f}")
print(f"d/d apple price = {apple.grad:.1f}, d/d apples = {apple_count.grad:.1f}, "
      f"d/d orange price = {orange.grad:.1f}, d/d oranges = {orange_count.grad:.1f}, "
      f"d/d tax = {tax.grad:.1f}")
picture(price, out, "seed_002_price")

# ReLU: 1 where x > 0, else 0; sigmoid: (1 - y) * y
for v in (-1.5, 2.0):
    x = Value(v)
    x.relu().backward()
    s = Value(v)
    y = s.sigmoid()
    y.backward()
    print(f"x = {v:+.1f}: relu' = {x.grad:g}, sigmoid = {y.data:.6f}, "
          f"sigmoid' = {s.grad:.6f} = (1 - y) * y = {(1 - y.data) * y.data:.6f}")

# softmax + cross-entropy: the gradient at the scores is y - t
scores = [Value(v, label=f"a{i}") for i, v in enumerate((0.3, 2.9, 4.0))]
t = [0.0, 0.0, 1.0]
exps = [a.exp() for a in scores]
total = sum(exps)
y = [e / total for e in exps]
loss = -sum(ti * yi.log() for ti, yi in zip(t, y))
loss.backward()
print("softmax y =", " ".join(f"{yi.data:.6f}" for yi in y))
print("dL/da     =", " ".join(f"{a.grad:.6f}" for a in scores))
print("y - t     =", " ".join(f"{yi.data - ti:.6f}" for yi, ti in zip(y, t)))


# numerical differentiation against backpropagation, on a small network
def network(ws):
    h = [(ws[0] * i + ws[1] * (1 - i)).tanh() for i in (0.1, 0.5, 0.9)]
    return sum((hi * wi for hi, wi in zip(h, ws[2:5])), ws[5]) ** 2


weights = [Value(0.1 * k - 0.2) for k in range(6)]
start = time.perf_counter()
out_value = network(weights)
out_value.backward()
backprop = [w.grad for w in weights]
backprop_time = time.perf_counter() - start

start = time.perf_counter()
eps = 1e-6
numerical = []
for w in weights:
    w.data += eps
    plus = network(weights).data
    w.data -= 2 * eps
    minus = network(weights).data
    w.data += eps
    numerical.append((plus - minus) / (2 * eps))
numerical_time = time.perf_counter() - start
worst = max(abs(a - b) for a, b in zip(backprop, numerical))
print(f"backprop vs numerical: largest difference {worst:.2e} "
      f"({'agree' if worst < 1e-6 else 'DISAGREE'})")
print(f"time: backprop {backprop_time * 1e6:.0f} us for all {len(weights)} gradients, "
      f"numerical {numerical_time * 1e6:.0f} us ({2 * len(weights)} extra forward passes)")
assert math.isfinite(worst)
