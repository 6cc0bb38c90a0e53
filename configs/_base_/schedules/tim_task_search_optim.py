# The optimisers of TIM's task-module searches (a searched detection neck or
# segmentation decoder behind N_F, Sec. 4.3): the weights AdamW 1e-4 (the
# paper names none), gradient norm clipped at 35; the architecture alpha
# Adam at the paper's architecture learning rate 3e-4, betas (0.5, 0.999),
# weight decay 1e-3 (DARTS's). A variable, not `optim_wrapper`: a search
# config inherits its retrain config, which has an optim_wrapper of its own;
# it adds this file to its bases and sets
#   optim_wrapper = dict(_base_.tim_task_search_optim_wrapper, _delete_=True)
# Used by configs/tim/search_retinanet_{ivif,multispectral}.py,
# search_deeplabv3plus_r18_msrs.py and compose/search_chain_retinanet_llvip.py.
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
