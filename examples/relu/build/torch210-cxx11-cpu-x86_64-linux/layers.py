import torch

from ._ops import ops


class ReLU(torch.nn.Module):
    """A drop-in replacement for torch.nn.ReLU backed by the kernel."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        ops.relu(out, x)
        return out
