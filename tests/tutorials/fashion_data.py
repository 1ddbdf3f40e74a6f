"""FashionMNIST's shape without the download: 28x28 float images in [0, 1] with int
labels 0-9, as datasets.FashionMNIST(transform=ToTensor()) gives them, drawn from a
numpy generator so that both libraries see the same numbers; the model shared by the
basics tutorials."""
import numpy as np

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]


def fashion_datasets(run, train_size=256, test_size=128):
    """(training_data, test_data) as TensorDatasets of (N, 1, 28, 28) images and labels."""
    torch = run.lib
    rng = np.random.default_rng(1234)
    datasets = []
    for n in (train_size, test_size):
        labels = rng.integers(0, 10, n)
        images = rng.random((n, 1, 28, 28)).astype(np.float32)
        images[:, :, labels % 7, :] += 0.5          # something a model can learn
        datasets.append(torch.utils.data.TensorDataset(torch.tensor(images),
                                                       torch.tensor(labels)))
    return datasets


def neural_network(torch):
    nn = torch.nn

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512),
                nn.ReLU(),
                nn.Linear(512, 512),
                nn.ReLU(),
                nn.Linear(512, 10)
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    return NeuralNetwork
