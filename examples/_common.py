"""What the example scripts share: where pictures go."""
import argparse
import pathlib

from tapegrad.viz import save_graph


def output_dir(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "output"),
                        help="folder for the graph pictures (default: examples/output)")
    return pathlib.Path(parser.parse_args().out)


def picture(root, out, name):
    path = save_graph(root, out / name)
    print(f"graph picture: {path}")
