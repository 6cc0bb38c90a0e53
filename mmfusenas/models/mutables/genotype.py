"""Genotypes: the derived choices of a search space as plain data.

A genotype ``{key: candidate name}`` applied to a search-space config gives
the fixed network config (:func:`fix_space_cfg`). :class:`Genotype` reads
and writes genotype files (``mmfusenas-genotype/1``, YAML or JSON);
``GenotypeNet`` (:func:`build_genotype_net`) rebuilds the fixed network.
"""
import copy
import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Set, Tuple, Union

from mmfusenas.utils.config import walk_path
from mmfusenas.registry import MODELS
from .space import (MUTABLE_TYPES, dump_data_file, expand_edge_templates,
                    load_data_file)

FORMAT = 'mmfusenas-genotype/1'


def _plain(obj: Any) -> Any:
    """Config -> plain YAML/JSON data (tuples become lists)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f'cannot store {type(obj).__name__} {obj!r} in a '
                    'genotype file')


def fix_space_cfg(space_cfg: Any, choices: Dict[str, str]) -> Any:
    """Replace every ``DiffMixedOp`` config by its chosen candidate's spec.

    Nested choice points and edge templates (``edge_cfg``) are resolved
    recursively; ``space_cfg`` is not modified.

    Args:
        space_cfg: the search-space (supernet) config.
        choices (dict): ``{key: candidate name}``.

    Returns:
        The fixed-network config.

    Raises:
        KeyError: a reachable choice point has no entry in ``choices``.
        ValueError: a choice names no candidate of its choice point.
    """
    # local import: avoids an import cycle (cells build mixed ops)
    return _fix(expand_edge_templates(space_cfg), choices)


def _fix(space_cfg: Any, choices: Dict[str, str]) -> Any:
    if isinstance(space_cfg, (list, tuple)):
        return type(space_cfg)(_fix(v, choices) for v in space_cfg)
    if not isinstance(space_cfg, dict):
        return copy.deepcopy(space_cfg)
    if space_cfg.get('type') in MUTABLE_TYPES:
        # local import: diff_mixed_op imports the cell builders
        from .diff_mixed_op import normalise_candidates
        key = space_cfg['key']
        names, specs = normalise_candidates(space_cfg['candidates'])
        if key not in choices:
            raise KeyError(f'genotype has no choice for the architecture key '
                           f'{key!r} (candidates {names})')
        if choices[key] not in names:
            raise ValueError(f'genotype chooses {choices[key]!r} for {key!r}, '
                             f'which is not one of its candidates {names}')
        return _fix(specs[names.index(choices[key])], choices)
    return {k: _fix(v, choices) for k, v in space_cfg.items()}


def _keys_and_nested(space_cfg: Any) -> Tuple[Set[str], Set[str]]:
    """All architecture keys of a space, and those nested inside a
    candidate of another choice point."""
    keys: Set[str] = set()
    nested: Set[str] = set()

    def walk(node: Any, inside: bool) -> None:
        if isinstance(node, (list, tuple)):
            for v in node:
                walk(v, inside)
        elif isinstance(node, dict):
            mutable = node.get('type') in MUTABLE_TYPES and 'key' in node
            if mutable:
                keys.add(node['key'])
                if inside:
                    nested.add(node['key'])
            for v in node.values():
                walk(v, inside or mutable)

    walk(expand_edge_templates(space_cfg), False)
    return keys, nested


def space_keys(space_cfg: Any) -> Set[str]:
    """Every architecture key of a search-space config (nested choice points
    and edge templates included)."""
    return _keys_and_nested(space_cfg)[0]


def nested_space_keys(space_cfg: Any) -> Set[str]:
    """The keys of the choice points that lie inside a candidate of another
    choice point (paid only when that candidate is chosen)."""
    return _keys_and_nested(space_cfg)[1]


def reachable_keys(space_cfg: Any, choices: Mapping[str, str]) -> Set[str]:
    """The keys of the choice points that are part of the fixed network
    ``choices`` give (nested ones only under a chosen candidate)."""
    from .diff_mixed_op import normalise_candidates
    keys: Set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for v in node:
                walk(v)
        elif isinstance(node, dict):
            if node.get('type') in MUTABLE_TYPES and 'key' in node:
                keys.add(node['key'])
                names, specs = normalise_candidates(node['candidates'])
                choice = choices.get(node['key'])
                if choice in names:
                    walk(specs[names.index(choice)])
                return
            for v in node.values():
                walk(v)

    walk(expand_edge_templates(space_cfg))
    return keys


def first_difference(a: Any, b: Any, path: str = '') -> Optional[str]:
    """Where two plain configs first differ (``None`` if equal)."""
    where = path or '<root>'
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a:
                return f'{where}: missing key {k!r}'
            if k not in b:
                return f'{where}: unexpected key {k!r}'
            diff = first_difference(a[k], b[k], f'{path}.{k}' if path else k)
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return (f'{where}: {len(a)} entries, the space gives {len(b)} '
                    f'({a!r} vs {b!r})')
        for i, (x, y) in enumerate(zip(a, b)):
            diff = first_difference(x, y, f'{path}.{i}')
            if diff:
                return diff
        return None
    if a != b:
        return f'{where}: {a!r}, the space gives {b!r}'
    return None


def validate_genotype(space_cfg: Any,
                      choices: Mapping[str, str],
                      network: Optional[Mapping] = None,
                      where: str = 'genotype') -> Dict[str, Any]:
    """Check choices (and a stored network) against a search space.

    Args:
        space_cfg: The search-space config.
        choices (Mapping[str, str]): ``{key: candidate name}``.
        network (Mapping, optional): A stored fixed-network config that must
            equal the derived one.
        where (str): Names the genotype in messages.

    Returns:
        dict: The derived fixed-network config.

    Raises:
        KeyError: Unknown keys, or a reachable choice point without choice.
        ValueError: A choice names no candidate, or ``network`` differs.
    """
    known = space_keys(space_cfg)
    unknown = sorted(set(choices) - known)
    if unknown:
        hints = {
            k: difflib.get_close_matches(k, sorted(known), n=2)
            for k in unknown
        }
        raise KeyError(
            f'{where}: choices for architecture keys that are not in the '
            f'search space: {unknown} (closest existing keys: {hints}; the '
            f'space has {len(known)} keys)')
    try:
        derived = _plain(fix_space_cfg(space_cfg, dict(choices)))
    except KeyError as err:
        raise KeyError(f'{where}: {err.args[0]}') from None
    except ValueError as err:
        raise ValueError(f'{where}: {err}') from None
    if network is not None:
        diff = first_difference(_plain(network), derived, 'network')
        if diff:
            raise ValueError(
                f'{where}: the stored network is not the one its choices '
                f'give in the search space ({diff}); was it edited or '
                'exported from another space?')
    return derived


def check_op_names(space_cfg: Any = None,
                   network: Any = None,
                   where: str = 'genotype') -> None:
    """Check that every op name of a search space / network is known.

    Raises:
        ValueError: names ``where`` and each unknown operator with the closest
            known names and where it is used.
    """
    from mmfusenas.models.ops import known_op_names
    from .diff_mixed_op import normalise_candidates
    known = set(known_op_names())
    found: Dict[str, list] = {}

    def check(name: Any, at: str) -> None:
        if isinstance(name, str) and name not in known:
            found.setdefault(name, []).append(at)

    def walk_space(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for v in node:
                walk_space(v)
        elif isinstance(node, dict):
            if node.get('type') in MUTABLE_TYPES and 'key' in node:
                names, specs = normalise_candidates(node['candidates'])
                for name, spec in zip(names, specs):
                    check(spec, f'space key {node["key"]!r} candidate '
                          f'{name!r}')
                walk_space(specs)
                return
            for v in node.values():
                walk_space(v)

    def walk_network(node: Any, path: str) -> None:
        if isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk_network(v, f'{path}.{i}')
        elif isinstance(node, dict):
            for k, v in node.items():
                if k == 'ops' and isinstance(v, (list, tuple)):
                    for i, op in enumerate(v):
                        check(op, f'{path}.ops.{i}')
                walk_network(v, f'{path}.{k}')

    if space_cfg is not None:
        walk_space(expand_edge_templates(space_cfg))
    if network is not None:
        walk_network(network, 'network')
    if not found:
        return
    lines = []
    for name, paths in found.items():
        close = difflib.get_close_matches(name, sorted(known), n=3)
        hint = (f' (did you mean {" or ".join(map(repr, close))}?)'
                if close else '')
        net = [p for p in paths if p.startswith('network')]
        space = [p for p in paths if not p.startswith('network')]
        shown = ', '.join(net[:3] + space[:3]) + (
            f' ... ({len(paths)} places)' if len(paths) > 6 else '')
        lines.append(f'{name!r}{hint} at {shown}')
    raise ValueError(f'{where}: unknown operator(s) ' + '; '.join(lines) +
                     f'. Known operators: {", ".join(sorted(known))}')


@dataclass
class Genotype:
    """Derived architecture: choices, the fixed network config and metadata.

    Args:
        choices (dict): ``{key: candidate name}``.
        network (dict): the fixed network config
            (``fix_space_cfg(space, choices)``).
        probabilities (dict): ``{key: {name: softmax weight}}`` at export.
        meta (dict): free-form provenance (iteration, strategy, ...).
        space (dict, optional): the search space the choices apply to;
            recorded so that a loaded file can be validated.
    """
    choices: Dict[str, str]
    network: Dict[str, Any]
    probabilities: Dict[str, Dict[str, float]] = field(default_factory=dict)
    meta: Dict[str, Any] = field(default_factory=dict)
    space: Optional[Dict[str, Any]] = None

    @classmethod
    def from_space(cls, space_cfg: dict, choices: Dict[str, str],
                   **kwargs) -> 'Genotype':
        """Derive and validate the fixed network of ``space_cfg``."""
        validate_genotype(space_cfg, choices)
        network = fix_space_cfg(space_cfg, choices)
        try:
            space = _plain(space_cfg)
        except TypeError:  # not storable as plain data: not recorded
            space = None
        kwargs.setdefault('space', space)
        return cls(choices=dict(choices), network=network, **kwargs)

    def validate(self, space_cfg: Optional[dict] = None,
                 where: str = 'genotype') -> None:
        """Check choices and network against ``space_cfg`` or the recorded."""
        space_cfg = self.space if space_cfg is None else space_cfg
        if space_cfg is not None:
            validate_genotype(space_cfg, self.choices, self.network, where)

    def to_dict(self) -> Dict[str, Any]:
        data = dict(
            format=FORMAT,
            choices=self.choices,
            probabilities=self.probabilities,
            network=self.network,
            meta=self.meta)
        if self.space is not None:
            data['space'] = self.space
        return _plain(data)

    def dump(self, path: str) -> None:
        """Write YAML (``.yaml`` / ``.yml``) or JSON (``.json``) atomically."""
        dump_data_file(self.to_dict(), path, 'genotype')

    @classmethod
    def load(cls, path: str) -> 'Genotype':
        """Read and validate a genotype file."""
        data = load_data_file(path, 'genotype')
        if not isinstance(data, dict) or data.get('format') != FORMAT:
            raise ValueError(f"{path} is not a genotype file: expected a "
                             f"mapping with format: {FORMAT}")
        for key, kind in (('choices', dict), ('network', dict)):
            if not isinstance(data.get(key), kind):
                raise ValueError(f'{path}: {key!r} must be a mapping, got '
                                 f'{type(data.get(key)).__name__}')
        bad = {k: v for k, v in data['choices'].items()
               if not isinstance(k, str) or not isinstance(v, str)}
        if bad:
            raise ValueError(f'{path}: choices must map keys (strings) to '
                             f'candidate names (strings); bad entries {bad}')
        if 'type' not in data['network']:
            raise ValueError(f"{path}: 'network' has no 'type'")
        for key in ('space', 'probabilities', 'meta'):
            value = data.get(key)
            if value is not None and not isinstance(value, dict):
                raise ValueError(f'{path}: {key!r} must be a mapping, got '
                                 f'{type(value).__name__}')
        geno = cls(
            choices=data['choices'],
            network=data['network'],
            probabilities=data.get('probabilities') or {},
            meta=data.get('meta') or {},
            space=data.get('space'))
        geno.validate(where=path)
        check_op_names(geno.space, geno.network, where=path)
        return geno


def config_at(cfg: Any, path: str, option: str = 'path') -> Any:
    """The sub-config at a dotted ``path`` (dict keys / list indices).

    Raises:
        KeyError: a key or index on the way does not exist.
        TypeError: the config there is not a dict.
    """
    parts = path.split('.') if path else []
    found, node, walked = walk_path(cfg, parts)
    if not found:
        raise KeyError(f"{option} {path!r}: the config has no "
                       f"{'.'.join(parts[:walked + 1])!r}")
    if not isinstance(node, Mapping):
        raise TypeError(f'{option} {path!r} must name a module config '
                        f'(a dict), got {type(node).__name__}')
    return node


def build_genotype_net(genotype: Union[str, Genotype],
                       space: Optional[dict] = None,
                       part: Optional[str] = None,
                       **overrides):
    """Build the fixed network of a genotype (registered as ``GenotypeNet``).

    Args:
        genotype (str | Genotype): a genotype file or object.
        space (dict, optional): the search-space config; when given, the
            network is derived from it (and must equal the file's ``network``).
        part (str, optional): build only the sub-network at this dotted path
            (e.g. ``'detector.neck'``). Defaults to None (the whole network).
        **overrides: keys merged into the (part's) network config.

    Returns:
        nn.Module: the fixed network.
    """
    geno = Genotype.load(genotype) if isinstance(genotype, str) else genotype
    network = geno.network
    where = genotype if isinstance(genotype, str) else 'genotype'
    if space is not None:
        network = validate_genotype(space, geno.choices, network, where)
    if part is not None:
        network = config_at(network, part, 'GenotypeNet part')
    cfg = copy.deepcopy(network)
    cfg.update(overrides)
    try:
        return MODELS.build(cfg)
    except KeyError as err:  # e.g. a type not in the registry
        raise KeyError(f'{where}: network {cfg.get("type")!r}: '
                       f'{" ".join(map(str, err.args))}') from err


MODELS.register_module(name='GenotypeNet', module=build_genotype_net)
