import torch

# The compiled extension registers its operators under this namespace.
ops = torch.ops._relu_cpu_6a1b2c3


def add_op_namespace_prefix(op_name: str) -> str:
    """Prefix an op name with the namespace of this build."""
    return f"_relu_cpu_6a1b2c3::{op_name}"
