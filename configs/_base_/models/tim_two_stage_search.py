# TIM's two-stage fusion model for visual enhancement (Sec. 4.2):
#   stage 1, N_F: the searched fusion network -- the paper's IVIF / medical
#     N_F, genotype fusion_M (multi-scale fusion cell [3-RB, 3-DC] +
#     successive cell [3-DB, 3-DC], C = 48, 994,917 parameters), the same
#     network as configs/tim/fusion_ivif_tno.py / fusion_mri_ct.py /
#     pmi_fusion.py (a test keeps them equal), so a trained N_F loads through
#     TIMTwoStageFusionNet(stage1_init=...). To stack N_T on the N_F found by
#     your own search instead, use
#       stage1=dict(
#           type='GenotypeNet',
#           genotype='work_dirs/search_fusion_ivif/genotypes/latest.yaml')
#   stage 2, N_T: the parallel enhancement network searched here -- two
#     branches (target extraction, detail enhancement) of two successive
#     cells each; the two cells of a branch share one genotype (the official
#     models repeat it), so each branch has two choice points of 7 operators:
#       nt/first/op<e>, nt/second/op<e>      (4 architecture vectors)
#     The branches are merged by the spatial mask (IVIF, 'mask') or by
#     concatenation (medical, 'concat'), as the official Network_Fusion9_3 /
#     Network_Fusion9_2.
# Branch roles: stage 2's first branch reads the first source after
# `input_order`, the second branch the second. IVIF stacks (ir, vi) and the
# official stage 2 swaps them (input_order (1, 0)): first = VIS = detail
# enhancement, second = IR = target extraction. Medical stacks (mri, ct|pet|
# spect) and keeps the order: first = MRI = detail, second = CT/PET/SPECT =
# target. Both give branch_names=('detail', 'target').
tim_nt_ops = [
    'Denseblocks_3_1', 'Residualblocks_3_1', 'Residualblocks_5_1',
    'DilConv_3_2', 'SepConv_3_1', 'ECAattention_3', 'SPAattention_3'
]

tim_nf = dict(
    type='TIMFusionNet',
    channels=48,
    in_channels=2,
    cells=[
        dict(
            type='MultiScaleFusionCell',
            ops=['Residualblocks_3_1', 'DilConv_3_2']),
        dict(type='SuccessiveCell', ops=['Denseblocks_3_1', 'DilConv_3_2']),
    ])

tim_nt_first_cell = dict(
    type='SuccessiveCell',
    ops=[
        dict(type='DiffMixedOp', key='nt/first/op0', candidates=tim_nt_ops),
        dict(type='DiffMixedOp', key='nt/first/op1', candidates=tim_nt_ops),
    ])
tim_nt_second_cell = dict(
    type='SuccessiveCell',
    ops=[
        dict(type='DiffMixedOp', key='nt/second/op0', candidates=tim_nt_ops),
        dict(type='DiffMixedOp', key='nt/second/op1', candidates=tim_nt_ops),
    ])
tim_nt_space_ivif = dict(
    type='TIMEnhanceNet',
    channels=48,
    merge='mask',
    input_order=(1, 0),
    first_cells=[tim_nt_first_cell, tim_nt_first_cell],
    second_cells=[tim_nt_second_cell, tim_nt_second_cell])
tim_nt_space_medical = dict(
    type='TIMEnhanceNet',
    channels=48,
    merge='concat',
    input_order=None,
    first_cells=[tim_nt_first_cell, tim_nt_first_cell],
    second_cells=[tim_nt_second_cell, tim_nt_second_cell])
tim_branch_names = ('detail', 'target')
