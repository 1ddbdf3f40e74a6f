"""Seed 000: f(x, y, z) = (x + y) * z at x = -2, y = 5, z = -4.

The forward pass gives q = x + y = 3 and f = q * z = -12. The local
gradients are dq/dx = dq/dy = 1, df/dq = z, df/dz = q; the chain rule gives
df/dx = df/dq * dq/dx = -4, df/dy = -4, df/dz = 3.
"""
from _common import output_dir, picture

from tapegrad import Value

out = output_dir(__doc__)
x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
q = x + y
q.label = "q"
f = q * z
f.label = "f"
print(f"forward:  q = {q.data:g}, f = {f.data:g}")
f.backward()
print(f"local:    dq/dx = 1, dq/dy = 1, df/dq = z = {z.data:g}, df/dz = q = {q.data:g}")
print(f"backward: df/dx = {x.grad:g}, df/dy = {y.grad:g}, df/dz = {z.grad:g}, df/dq = {q.grad:g}")
picture(f, out, "seed_000_f")
