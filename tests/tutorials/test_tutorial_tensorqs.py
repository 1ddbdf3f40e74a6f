"""Learn the Basics, "Tensors" (tensorqs_tutorial.py): creation, attributes, indexing,
joining, arithmetic, single-element tensors, in-place ops and the numpy bridge."""
import numpy as np

from tutorial_run import lacks_out_keyword, pending, run_both


def tensorqs(run):
    torch = run.lib
    data = [[1, 2], [3, 4]]
    x_data = torch.tensor(data)
    np_array = np.array(data)
    x_np = torch.from_numpy(np_array)
    run.print(x_data, x_np)

    x_ones = torch.ones_like(x_data)
    run.text(f"Ones Tensor: \n {x_ones} \n")
    x_rand = torch.rand_like(x_data, dtype=torch.float)
    run.print(x_rand.shape, x_rand.dtype)          # random: its numbers are each library's

    shape = (2, 3,)
    rand_tensor = torch.rand(shape)
    ones_tensor = torch.ones(shape)
    zeros_tensor = torch.zeros(shape)
    run.print(rand_tensor.shape)
    run.text(f"Ones Tensor: \n {ones_tensor} \n")
    run.text(f"Zeros Tensor: \n {zeros_tensor}")

    tensor = run.rand(3, 4)
    run.text(f"Shape of tensor: {tensor.shape}")
    run.text(f"Datatype of tensor: {tensor.dtype}")
    run.text(f"Device tensor is stored on: {tensor.device}")
    if torch.accelerator.is_available():
        tensor = tensor.to(torch.accelerator.current_accelerator())

    tensor = torch.ones(4, 4)
    run.text(f"First row: {tensor[0]}")
    run.text(f"First column: {tensor[:, 0]}")
    run.text(f"Last column: {tensor[..., -1]}")
    tensor[:, 1] = 0
    run.text(str(tensor))

    t1 = torch.cat([tensor, tensor, tensor], dim=1)
    run.text(str(t1))

    y1 = tensor @ tensor.T
    y2 = tensor.matmul(tensor.T)
    y3 = torch.rand_like(y1)
    torch.matmul(tensor, tensor.T, out=y3)
    z1 = tensor * tensor
    z2 = tensor.mul(tensor)
    z3 = torch.rand_like(tensor)
    torch.mul(tensor, tensor, out=z3)
    run.text(str(y1) + str(y2) + str(y3) + str(z1) + str(z2) + str(z3))

    agg = tensor.sum()
    agg_item = agg.item()
    run.text(f"{agg_item} {type(agg_item)}")

    run.text(f"{tensor} \n")
    tensor.add_(5)
    run.text(str(tensor))

    t = torch.ones(5)
    run.text(f"t: {t}")
    n = t.numpy()
    run.text(f"n: {n}")
    t.add_(1)
    run.text(f"t: {t}")
    run.text(f"n: {n}")

    n = np.ones(5)
    t = torch.from_numpy(n)
    np.add(n, 1, out=n)
    run.text(f"t: {t}")
    run.text(f"n: {n}")


@pending(lacks_out_keyword, "out= on matmul and mul", TypeError)
def test_tensorqs_prints_torchs_text():
    run_both(tensorqs)
