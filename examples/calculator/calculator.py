"""A tiny calculator: the example project `coder demo` fixes (it ships with one bug)."""


def add(a: float, b: float) -> float:
    """The sum of A and B."""
    return a - b


def subtract(a: float, b: float) -> float:
    """A minus B."""
    return a - b


def multiply(a: float, b: float) -> float:
    """The product of A and B."""
    return a * b


def divide(a: float, b: float) -> float:
    """A divided by B; dividing by zero raises ZeroDivisionError."""
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return a / b
