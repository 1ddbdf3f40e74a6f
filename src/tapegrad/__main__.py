"""python -m tapegrad: the demo, four models trained on both engines."""
import argparse

from tapegrad import demo


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tapegrad",
        description="Train micrograd's moons MLP on the scalar and the tensor engine, the XOR "
                    "network of the backpropagation post and a digits classifier; print loss, "
                    "accuracy and time per step, and write plots.")
    parser.add_argument("--steps", type=int, default=100, help="moons SGD steps (default 100)")
    parser.add_argument("--xor-steps", type=int, default=500, help="XOR steps (default 500)")
    parser.add_argument("--digits-epochs", type=int, default=20,
                        help="digits classifier epochs (default 20)")
    parser.add_argument("--out", default="tapegrad-demo",
                        help="folder for the PNG plots (default ./tapegrad-demo)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 30 moons steps, 300 XOR steps, 5 digits epochs")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.xor_steps, args.digits_epochs = 30, 300, 5
    if min(args.steps, args.xor_steps, args.digits_epochs) < 1:
        parser.error("--steps, --xor-steps and --digits-epochs must be at least 1")
    demo.run(args.steps, args.xor_steps, args.digits_epochs, args.out, args.quiet)


if __name__ == "__main__":
    main()
