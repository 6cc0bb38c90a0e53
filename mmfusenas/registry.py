"""MMFuseNAS registries.

Every registry is a child of the corresponding MMEngine root registry, so a
config with ``default_scope='mmfusenas'`` can name components of this package
directly, and sub-configs carrying ``_scope_='mmdet'`` or ``_scope_='mmseg'``
still resolve to MMDetection / MMSegmentation components (and vice versa, an
mmdet config can name ``mmfusenas.X``).

``locations`` lists the modules that register into each registry; MMEngine
imports them lazily the first time the registry is queried, so configs build
without manual imports.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# runners and the loops / hooks that drive them (training, bilevel search,
# meta-initialisation)
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['mmfusenas.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=['mmfusenas.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, locations=['mmfusenas.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['mmfusenas.engine.hooks'])

# data
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmfusenas.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmfusenas.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmfusenas.datasets.transforms'])

# models: operators, cells, networks, losses, task wrappers, algorithms
MODELS = Registry(
    'model',
    parent=MMENGINE_MODELS,
    locations=['mmfusenas.models', 'mmfusenas.search'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmfusenas.models', 'mmfusenas.engine'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmfusenas.models'])

# optimisation
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    locations=['mmfusenas.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmfusenas.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmfusenas.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmfusenas.engine'])

# evaluation
METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    locations=['mmfusenas.evaluation.metrics'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    locations=['mmfusenas.evaluation.metrics'])

# search-specific helpers (bilevel strategies, latency tables, estimators)
TASK_UTILS = Registry(
    'task util',
    parent=MMENGINE_TASK_UTILS,
    locations=['mmfusenas.search'])

# visualisation and logging (nothing of ours registers here yet)
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS)
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMENGINE_LOG_PROCESSORS,
    locations=['mmfusenas.engine'])
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmfusenas.utils'])

# importing it allow-lists what MMEngine writes into checkpoints for
# weights_only loading
import mmfusenas.utils.checkpoint  # noqa: E402,F401
