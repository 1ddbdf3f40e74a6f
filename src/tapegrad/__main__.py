"""python -m tapegrad: trains micrograd's moons demo on the scalar engine."""
import argparse

from tapegrad import demo


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tapegrad",
        description="Train micrograd's moons MLP on tapegrad's scalar engine.")
    parser.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    parser.add_argument("--every", type=int, default=10,
                        help="print every this many steps (default 10)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.every < 1:
        parser.error("--steps and --every must be at least 1")
    demo.run(steps=args.steps, every=args.every)


if __name__ == "__main__":
    main()
