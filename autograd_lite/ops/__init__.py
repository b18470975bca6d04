"""The built-in operations, one module per family; each op is a class with its rule beside it."""

from .activations import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .elementwise import (
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Sub,
    Where,
)
from .linalg import MatMul
from .losses import BinaryCrossEntropy, CrossEntropy, SquaredError
from .reductions import Max, Mean, Min, Sum
from .shape import BroadcastTo, Concatenate, GetItem, Reshape, ScatterAdd, Stack, Transpose

__all__ = [
    "Abs",
    "Add",
    "BinaryCrossEntropy",
    "BroadcastTo",
    "Cast",
    "Clip",
    "Concatenate",
    "CrossEntropy",
    "Div",
    "Exp",
    "GetItem",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "Maximum",
    "Mean",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pow",
    "ReLU",
    "Reshape",
    "ScatterAdd",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "SquaredError",
    "Stack",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Where",
]  # fmt: skip
