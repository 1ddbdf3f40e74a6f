"""Seed 003: Q = 3a^3 - b^2 on tensors, with Q.backward(gradient=...).

Q is a vector, so backward needs the gradient of something with respect to Q:
here dQ/dQ = 1. Then a.grad = 9a^2 and b.grad = -2b.
"""
from _common import output_dir, picture

import tapegrad as torch

out = output_dir(__doc__)
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print("Q =", Q)
print("a.grad =", a.grad, " 9*a**2 =", 9 * a ** 2)
print("b.grad =", b.grad, " -2*b =", -2 * b)
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)
picture(3 * a ** 3 - b ** 2, out, "seed_003_Q")
