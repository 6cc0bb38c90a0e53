# TIM's stage-1 fusion network N_F: the official one (LiuZhu-CV/TIMFusion
# Network_Fusion9_Meta, genotype fusion_M: the multi-scale fusion cell
# [Residualblocks_3_1, DilConv_3_2] <- fusion_M.chain_fusion, then the
# successive cell [Denseblocks_3_1, DilConv_3_2] <- fusion_M.normal; C = 48,
# 994,917 parameters) on the stacked (ir, vi_y) pair. One definition for
# every fusion task, so that one PMI initialisation loads everywhere
# (configs/tim/fusion_ivif_tno.py, fusion_mri_ct.py and their siblings,
# pmi_fusion.py, tim_ivif.py's stage 1) and for the fusion + task models
# that put it in front of their detector / segmentor (fusion_retinanet_r18.py,
# fusion_ssd_r18.py, fusion_deeplabv3plus_r18.py -> fusion_fcn_r18.py).
tim_fusion_net = dict(
    type='TIMFusionNet',
    channels=48,
    in_channels=2,
    cells=[
        dict(
            type='MultiScaleFusionCell',
            ops=['Residualblocks_3_1', 'DilConv_3_2']),
        dict(type='SuccessiveCell', ops=['Denseblocks_3_1', 'DilConv_3_2']),
    ])
