"""require_positive: an integer option below 1 stops the parser naming the
option; None and positive values pass."""
import argparse

import pytest

from mmfusenas.utils.cli_args import require_positive


def _parser():
    parser = argparse.ArgumentParser(prog='tool')
    parser.add_argument('--max-pairs', type=int)
    parser.add_argument('--threads', type=int, default=1)
    return parser


def test_none_and_positive_values_pass(capsys):
    parser = _parser()
    for argv, want in (([], dict(max_pairs=None, threads=1)),
                       (['--max-pairs', '1'], dict(max_pairs=1, threads=1))):
        args = parser.parse_args(argv)
        require_positive(parser, args, ('max_pairs', 'threads'))
        assert vars(args) == want  # untouched
    assert capsys.readouterr().err == ''


@pytest.mark.parametrize('argv,message', [
    (['--max-pairs', '0'], '--max-pairs must be >= 1, got 0'),
    (['--threads', '-2'], '--threads must be >= 1, got -2'),
])
def test_a_value_below_one_is_a_parser_error_naming_it(argv, message,
                                                       capsys):
    parser = _parser()
    with pytest.raises(SystemExit) as exc:
        require_positive(parser, parser.parse_args(argv),
                         ('max_pairs', 'threads'))
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
