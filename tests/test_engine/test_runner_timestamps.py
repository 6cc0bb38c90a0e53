"""ReliableRunner: runners started within one second in one process get
their own timestamps, log folders and visualizers."""


def test_runners_started_within_one_second_get_their_own_logs(tmp_path):
    import torch
    from mmengine.model import BaseModel

    from mmfusenas.engine.runner import ReliableRunner

    class Tiny(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return dict(loss=(self.w - inputs.mean())**2)

    runners = [
        ReliableRunner(model=Tiny(), work_dir=str(tmp_path / str(i)),
                       default_scope='mmfusenas', experiment_name='same')
        for i in range(3)
    ]
    stamps = [r.timestamp for r in runners]
    names = [r.experiment_name for r in runners]
    assert len(set(stamps)) == 3 and len(set(names)) == 3
    assert len({id(r.visualizer) for r in runners}) == 3
    for r in runners:
        r.release_work_dir()
