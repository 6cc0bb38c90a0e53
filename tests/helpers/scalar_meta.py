"""A scalar model and its batches for the PMI meta-gradient tests:
``loss = (w x - y)^2``, whose gradients are checked by hand."""
import torch
from mmengine.model import BaseModel


class ScalarModel(BaseModel):
    """``loss = (w x - y)^2`` with a scalar weight; plus an unused one."""

    def __init__(self, w0: float = 0.3) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
        self.unused = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        self.frozen = torch.nn.Parameter(
            torch.ones(1, dtype=torch.float64), requires_grad=False)

    def forward(self, x, y, mode='loss'):
        return dict(loss=(self.w * x - y)**2)


def batch(x, y):
    return dict(
        x=torch.tensor(x, dtype=torch.float64),
        y=torch.tensor(y, dtype=torch.float64))


SUPPORT = [batch(1.0, 2.0), batch(2.0, 1.0)]
QUERY = batch(1.5, 0.5)


def grad(w, x, y):
    return 2 * x * (w * x - y)
