"""Learn the Basics, "Build the Neural Network" (buildmodel_tutorial.py): the model's
structure, a prediction through Softmax, each layer on a minibatch, and the parameters
printed with their values (a 512x784 weight's summarised print among them)."""
from fashion_data import neural_network
from tutorial_run import run_both


def buildmodel(run):
    torch = run.lib
    nn = torch.nn
    device = (torch.accelerator.current_accelerator().type if torch.accelerator.is_available()
              else "cpu")
    run.text(f"Using {device} device")
    NeuralNetwork = neural_network(torch)
    model = run.init(NeuralNetwork().to(device))
    run.text(str(model))

    X = run.rand(1, 28, 28).to(device)
    logits = model(X)
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    run.text(f"Predicted class: {y_pred}")

    input_image = run.rand(3, 28, 28)
    run.text(str(input_image.size()))
    flatten = nn.Flatten()
    flat_image = flatten(input_image)
    run.text(str(flat_image.size()))
    layer1 = run.init(nn.Linear(in_features=28 * 28, out_features=20))
    hidden1 = layer1(flat_image)
    run.text(str(hidden1.size()))
    run.print("Before ReLU:", hidden1)
    hidden1 = nn.ReLU()(hidden1)
    run.print("After ReLU:", hidden1)

    seq_modules = nn.Sequential(
        flatten,
        layer1,
        nn.ReLU(),
        run.init(nn.Linear(20, 10))
    )
    input_image = run.rand(3, 28, 28)
    logits = seq_modules(input_image)
    softmax = nn.Softmax(dim=1)
    pred_probab = softmax(logits)
    run.print(pred_probab)

    run.text(f"Model structure: {model}\n\n")
    for name, param in model.named_parameters():
        run.text(f"Layer: {name} | Size: {param.size()}")
        run.print(param[:2])
    # the print itself: a summarised 2x784 weight, as torch prints it (values are exact
    # float32 copies, so the text is the same)
    weight = model.linear_relu_stack[0].weight
    run.text(f"Values : {weight[:2].detach()} \n")


def test_buildmodel_prints_torchs_values():
    run_both(buildmodel)
