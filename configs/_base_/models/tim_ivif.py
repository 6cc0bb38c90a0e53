# TIM (Liu et al., "A task-guided, implicitly-searched and meta-initialized
# deep model for image fusion", TPAMI 2024): the official two-stage IVIF
# model of LiuZhu-CV/TIMFusion (IVIF/testFusion.py), C = 48, layers = 1.
# Stage 1 (N_F, Network_Fusion9_Meta, genotype fusion_M): 994,917 params.
# Stage 2 (N_T, Network_Fusion9_3, genotypes [fusion_ir_proposed,
# fusion_vis_proposed]): 237,308 params. Total 1,232,225.
#
# Source order: the dataset stacks (ir, vi); the official script calls
# model_1(ir, vis) and model_2(vis, ir, f), so stage 2 swaps the sources:
# its first branch (official stem2 / cells3) sees VIS with fusion_vis_proposed
# and its second branch (stem3 / cells2) sees IR with fusion_ir_proposed.
#
# The multi-scale fusion cell needs H, W multiples of 4 (pad_size_divisor=4;
# predictions are cropped back). The official training losses are not
# public; the unsupervised max-intensity + max-gradient losses stand in.
# Official inference quirk not reproduced: the script leaves model_2 in train
# mode (its BNs use per-image batch statistics).
_base_ = ['./tim_fusion_net.py']

model = dict(
    type='ImageFusor',
    data_preprocessor=dict(type='FusionDataPreprocessor', pad_size_divisor=4),
    fusion_net=dict(
        type='TIMTwoStageFusionNet',
        # Cell_Fusion <- fusion_M.chain_fusion, Cell_Chain2 <- fusion_M.normal
        stage1=dict(_base_.tim_fusion_net, input_order=(0, 1)),
        stage2=dict(
            type='TIMEnhanceNet',
            channels=48,
            merge='mask',
            input_order=(1, 0),
            # fusion_vis_proposed (official g1, cells3)
            first_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['ECAattention_3', 'SPAattention_3']),
                dict(
                    type='SuccessiveCell',
                    ops=['ECAattention_3', 'SPAattention_3']),
            ],
            # fusion_ir_proposed (official g0, cells2)
            second_cells=[
                dict(
                    type='SuccessiveCell',
                    ops=['SPAattention_3', 'DilConv_3_2']),
                dict(
                    type='SuccessiveCell',
                    ops=['SPAattention_3', 'DilConv_3_2']),
            ])),
    losses=[
        dict(type='MaxIntensityLoss', loss_weight=1.0),
        dict(type='MaxGradientLoss', loss_weight=2.0),
    ])
