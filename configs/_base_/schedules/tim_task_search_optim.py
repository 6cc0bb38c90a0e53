# TIM's task-module search optimisers (Sec. 4.3); a search config sets
#   optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
tim_task_search_optim_wrapper = dict(
    constructor='BilevelOptimWrapperConstructor',
    weights=dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
        clip_grad=dict(max_norm=35, norm_type=2)),
    arch=dict(
        type='OptimWrapper',
        optimizer=dict(
            type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)))
