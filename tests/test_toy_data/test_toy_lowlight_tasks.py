"""Which folders the low-light task generators treat as their own output
(the generators and the data sets reading them are tested in
``tests/test_datasets/test_lowlight_task_datasets.py``)."""
import json

import pytest

from mmfusenas.testing.toy_data import generate_toy_exdark
from mmfusenas.testing.toy_data.lowlight_tasks import (GENERATOR_NAME,
                                                       is_toy_task_dataset)


def test_is_toy_task_dataset_reads_the_recorded_generator(tmp_path):
    # the module's current and former paths count, nothing else
    for name, expected in [(GENERATOR_NAME, True),
                           ('mmfusenas.datasets.toy_lowlight_tasks', True),
                           ('mmfusenas.toy_data.ivif', False), (None, False)]:
        folder = tmp_path / str(name)
        folder.mkdir()
        (folder / 'meta.json').write_text(json.dumps(dict(generator=name)))
        assert is_toy_task_dataset(str(folder)) is expected, name
    assert not is_toy_task_dataset(str(tmp_path / 'missing'))


def test_a_folder_of_a_former_generator_name_is_replaced(tmp_path):
    out = tmp_path / 'exdark'
    out.mkdir()
    (out / 'meta.json').write_text(
        json.dumps(dict(generator='mmfusenas.datasets.toy_lowlight_tasks')))
    (out / 'stale.txt').write_text('x')
    generate_toy_exdark(str(out), num_train=1, num_val=1, size=64)
    assert not (out / 'stale.txt').exists()
    with open(out / 'meta.json') as f:
        assert json.load(f)['generator'] == GENERATOR_NAME
    # a foreign folder is refused
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not a toy low-light task'):
        generate_toy_exdark(str(other), num_train=1, num_val=1, size=64)
    assert (other / 'keep.txt').exists()
