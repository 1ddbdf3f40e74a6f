"""Learn the Basics, "Optimizing Model Parameters" (optimization_tutorial.py): the
hyperparameters, train_loop and test_loop over DataLoaders, CrossEntropyLoss and SGD."""
from fashion_data import fashion_datasets, neural_network
from tutorial_run import run_both


def optimization(run, epochs):
    torch = run.lib
    DataLoader = torch.utils.data.DataLoader
    nn = torch.nn
    training_data, test_data = fashion_datasets(run)
    NeuralNetwork = neural_network(torch)
    model = run.init(NeuralNetwork())

    learning_rate = 1e-1
    batch_size = 64
    train_dataloader = DataLoader(training_data, batch_size=batch_size)
    test_dataloader = DataLoader(test_data, batch_size=batch_size)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

    def train_loop(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 2 == 0:                      # the tutorial prints every 100th
                loss, current = loss.item(), batch * batch_size + len(X)
                run.print(loss, current, size)

    def test_loop(dataloader, model, loss_fn):
        model.eval()
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        run.text(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%")
        run.print(test_loss)

    for t in range(epochs):
        run.text(f"Epoch {t+1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        test_loop(test_dataloader, model, loss_fn)
    run.text("Done!")


def test_optimization_prints_torchs_losses():
    run_both(optimization, epochs=2)
