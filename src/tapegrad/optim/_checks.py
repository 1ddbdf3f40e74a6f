"""The option checks every optimizer makes, with torch's wording."""


def check_nonnegative(**options):
    """Raises torch's 'Invalid learning rate: -1' style ValueError for a negative option."""
    names = {"lr": "learning rate", "eps": "epsilon value"}
    for name, value in options.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {names.get(name, name + ' value')}: {value}")
