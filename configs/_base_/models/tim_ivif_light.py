# TIM, official latency-constrained IVIF model ("light", the paper's TIM_w/L,
# 127,358 params; IVIF/testFusion_light.py): stage 1 only,
# Network_Fusion9_Meta with [Cell_Chain2, Cell_Chain2] and genotype
# fusion_light. No multi-scale cell, so any H, W works.
# The script calls model_1(vis, ir): with sources stacked as (ir, vi) the
# network swaps them (input_order=(1, 0)). The output has no activation
# (predictions are clamped to [0, 1]).
# One definition for the official config (fusion_ivif_light_official.py)
# and the real-data training (tim_light_ivif_roadscene221_cpu.py).

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=1),
    fusion_net=dict(
        type='TIMFusionNet',
        channels=48,
        in_channels=2,
        input_order=(1, 0),
        # Cell_Chain2 x 2 <- fusion_light.normal (separate weights)
        cells=[
            dict(
                type='SuccessiveCell',
                ops=['Residualblocks_3_1', 'ECAattention_3']),
            dict(
                type='SuccessiveCell',
                ops=['Residualblocks_3_1', 'ECAattention_3']),
        ]),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])
