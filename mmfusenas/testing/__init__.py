"""What the tests, the tools and the benchmarks share for testing, as
``mmdet.testing`` is for mmdet: the toy-data generators
(:mod:`.toy_data`, run by ``tools/misc/make_toy_*.py``), the gloo launcher
(:mod:`.distributed`), small model configs (:mod:`.toy_models`), bilevel
test problems (:mod:`.bilevel_problems`) and reference implementations of
the fusion metrics (:mod:`.fusion_oracle`,
:mod:`.reference_fusion_evaluator`, :mod:`.ivif_zoo_reference`).

Nothing else in the package imports it (``tests/test_package_layout.py``);
importing it loads none of its modules. What only the tests use stays in
``tests/helpers``.
"""
