"""The task-protocol guide gives a budget a CPU user can finish, says what
mmdet's empty-results ``ERROR`` of a short run means, and how much disk a
work dir takes (issue 79 item 11)."""
import inspect
import re

from mmdet.evaluation.metrics import coco_metric

from helpers import tool_parser

from .doc_text import prose, read, shell_commands

PAGE = 'docs/user_guides/task_driven_protocol.md'
TOOL = 'tools/analysis_tools/task_protocol.py'


def test_the_short_check_is_a_budget_a_cpu_finishes():
    """The page's short check parses with the tool's own parser and trains
    two inputs, one seed, at most 20 iterations of 320 x 240 on one thread
    (about 1 CPU-second per iteration, as the page says)."""
    checks = [words[2:] for _, words in shell_commands(read(PAGE))
              if words[:2] == ['python', TOOL] and '--max-iters' in words]
    assert checks, f'{PAGE} shows no short protocol run'
    args = tool_parser(TOOL).parse_args(checks[0])
    assert args.max_iters <= 20 and args.threads == 1
    assert list(args.seeds) == [0] and sorted(args.methods) == ['ir', 'vi']
    assert list(args.img_scale) == [320, 240]
    assert args.work_dir.startswith('work_dirs/')


def test_the_empty_results_error_is_explained():
    """The ``ERROR`` line a short run prints is quoted as mmdet's
    ``CocoMetric`` writes it, and read as 'no detections'."""
    text = ' '.join(line for _, line in prose(read(PAGE)))
    quoted = re.search(r'`ERROR: (The testing results[^`]*)`', text)
    assert quoted, f'{PAGE} does not quote the ERROR line'
    source = ' '.join(inspect.getsource(coco_metric).split())
    assert quoted.group(1).strip().rstrip('.') in source
    assert 'no detections' in text and 'not a failure' in text


def test_the_disk_use_of_a_work_dir_is_given():
    """The disk paragraph names what a work dir holds, with sizes."""
    text = ' '.join(line for _, line in prose(read(PAGE)))
    disk = text[text.index('**Disk.**'):][:600]
    for part in ('images', 'initial detector', 'checkpoint'):
        assert part in disk, part
    assert len(re.findall(r'\d+ MB', disk)) >= 3
