"""Learn the Basics, "Save and Load the Model" (saveloadrun_tutorial.py): weights saved
with torch.save(model.state_dict(), 'model_weights.pth') and loaded into a new model with
torch.load(..., weights_only=True), then eval(). Its vgg16 (torchvision, downloaded
weights) is the basics' network here. The tutorial's last part, torch.save(model) of the
whole module, pickles code: tapegrad saves no pickles, so that part is not run."""
import numpy as np

from fashion_data import neural_network
from tutorial_run import run_both


def saveloadrun(run, directory):
    torch = run.lib
    NeuralNetwork = neural_network(torch)
    model = run.init(NeuralNetwork())
    path = directory / 'model_weights.pth'
    torch.save(model.state_dict(), path)
    run.print(sorted(p.name for p in directory.iterdir()))

    model = NeuralNetwork()  # we do not specify the initial weights here
    run.print(model.load_state_dict(torch.load(path, weights_only=True)))
    model.eval()
    run.text(str(model))
    x = run.rand(2, 28, 28)
    with torch.no_grad():
        run.print(model(x))
    run.print(sorted(model.state_dict()))
    run.print(*(np.asarray(v) for v in model.state_dict().values()))


def test_saveloadrun_prints_torchs_values(tmp_path):
    for name in ("torch", "tapegrad"):
        (tmp_path / name).mkdir()
    calls = iter(("torch", "tapegrad"))
    run_both(lambda run: saveloadrun(run, tmp_path / next(calls)))
