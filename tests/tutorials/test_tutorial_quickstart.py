"""Learn the Basics, "Quickstart" (quickstart_tutorial.py): DataLoaders, the
Flatten + Linear/ReLU network, train and test loops, saving and loading the state_dict,
and a prediction. FashionMNIST is numpy data of the same shape (fashion_data.py)."""
from fashion_data import CLASSES, fashion_datasets, neural_network
from tutorial_run import run_both


def quickstart(run, path, epochs):
    torch = run.lib
    from_data = torch.utils.data
    DataLoader = from_data.DataLoader
    nn = torch.nn
    training_data, test_data = fashion_datasets(run)

    batch_size = 64
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    for X, y in test_dataloader:
        run.text(f"Shape of X [N, C, H, W]: {X.shape}")
        run.text(f"Shape of y: {y.shape} {y.dtype}")
        break

    device = (torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
              else "cpu")
    run.text(f"Using {device} device")
    NeuralNetwork = neural_network(torch)
    model = run.init(NeuralNetwork().to(device))
    run.text(str(model))

    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)

    def train(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:                      # the tutorial prints every 100th
                loss, current = loss.item(), (batch + 1) * len(X)
                run.print(loss, current, size)

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        run.text(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%")
        run.print(test_loss)

    for t in range(epochs):
        run.text(f"Epoch {t+1}\n-------------------------------")
        train(train_dataloader, model, loss_fn, optimizer)
        test(test_dataloader, model, loss_fn)
    run.text("Done!")

    torch.save(model.state_dict(), path)
    run.text(f"Saved PyTorch Model State to {path.name}")
    model = NeuralNetwork().to(device)
    model.load_state_dict(torch.load(path, weights_only=True))

    model.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model(x)
        predicted, actual = CLASSES[pred[0].argmax(0)], CLASSES[y]
        run.text(f'Predicted: "{predicted}", Actual: "{actual}"')
    run.print(pred)


def test_quickstart_prints_torchs_losses(tmp_path):
    run_both(quickstart, path=tmp_path / "model.pth", epochs=2)
