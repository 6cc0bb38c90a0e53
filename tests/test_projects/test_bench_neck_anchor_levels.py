"""Per-cell alpha gradients of
projects/reproductions/bench_neck_anchor_levels.py."""
import pytest
import torch

from helpers import load_tool


@pytest.fixture(scope='module')
def bench():
    return load_tool('projects/reproductions/bench_neck_anchor_levels.py')


class _ArchParams:

    def __init__(self, alphas):
        self.alphas = alphas

    def keys(self):
        return tuple(self.alphas)


class _Supernet(torch.nn.Module):
    """F = sum_k <c_k * x, alpha_k>: dF/dalpha_k = c_k * x, by hand."""

    def __init__(self, coef):
        super().__init__()
        self.alphas = {
            k: torch.nn.Parameter(torch.zeros(3))
            for k in coef
        }
        self.arch_params = _ArchParams(self.alphas)
        self.coef = coef

    def data_preprocessor(self, batch, training):
        assert training
        return batch

    def total_loss(self, data):
        x = data['x']
        return sum((self.coef[k] * x * a).sum()
                   for k, a in self.alphas.items())


def test_cell_alpha_grads_by_hand(bench):
    coef = {
        'neck/cell0/edge0': torch.tensor([3.0, 0.0, 4.0]),  # |g| = 5 x
        'neck/cell0/edge1': torch.tensor([0.0, 1.0, 0.0]),  # 1 x
        'neck/cell1/edge0': torch.tensor([0.0, 0.0, 0.0]),  # 0
    }
    model = _Supernet(coef)
    # two batches with x = 1 and x = 2: mean |g| = 1.5 x the coefficients
    loader = [dict(x=torch.tensor(1.0)), dict(x=torch.tensor(2.0))]
    grads = bench.cell_alpha_grads(model, loader, batches=2)
    assert grads == pytest.approx({'cell0': 1.5 * (5 + 1), 'cell1': 0.0})
    assert model.training


def test_each_measurement_has_its_own_loader(bench, tmp_path, monkeypatch):
    """Two measurements on the untrained search model, each on its own
    loader of the arch split, give every cell an α gradient, finite and
    above 0; a second pass over one loader gets no batch (its
    InfiniteSampler's indices ended with the first iterator)."""
    from mmengine.runner import Runner

    from mmfusenas.testing.toy_data.control_sets import toy_ivif
    toy_ivif(str(tmp_path / 'data'), True, 16)
    monkeypatch.chdir(tmp_path)  # the search config reads data/toy
    cfg = bench.search_cfg(0.4, 1, str(tmp_path / 'work'))
    model = Runner.from_cfg(cfg).model
    for _ in range(2):
        grads = bench.cell_alpha_grads(model, bench.arch_batches(cfg))
        assert sorted(grads) == [f'cell{c}' for c in range(6)]
        assert all(0 < g < float('inf') for g in grads.values())
    loader = bench.arch_batches(cfg)
    bench.cell_alpha_grads(model, loader, batches=1)
    with pytest.raises(StopIteration):
        bench.cell_alpha_grads(model, loader, batches=1)
