# Documented alternative to deeplabv3plus_r18_msrs_toy.py: its retrain
# sibling (retrain_deeplabv3plus_r18_msrs_toy.py) with a committed genotype,
# i.e. the same
# FusionSegmentor (TIM's stage-1 N_F + an MMSegmentation EncoderDecoder on a
# ResNetV1c-18 at 1/4 width) with the distillation decoder found by the
# project's own decoder search (TIM Sec. 4.3.2) in place of DeepLabV3+'s
# ASPP decoder: the encoder runs without dilation (C3-C5 at 1/8, 1/16,
# 1/32), the decoder is two 2-node feature distillation cells with residual
# up-sampling, logits at 1/8; the FCN auxiliary head on the 1/16 level is
# the toy config's. The genotype file was produced by
#   python tools/misc/make_toy_data.py data/toy --num 300 --seed 0
#   python tools/train.py configs/tim/search_deeplabv3plus_r18_msrs_toy.py
#   cp work_dirs/search_deeplabv3plus_r18_msrs_toy/genotypes/latest.yaml \
#      configs/tim/genotypes/deeplabv3plus_r18_msrs_toy_decoder.yaml
# (DARTS first order, 100 iterations, seed 0) and is rebuilt at
# `decoder_channels` = 48, the largest width whose segmentor has no more
# FLOPs than the DeepLabV3+ of the toy config (0.337 vs 0.430 GFLOPs at
# 128 px; but 2.72 M vs 0.79 M parameters). Compared with DeepLabV3+ at
# equal FLOPs and at equal parameters in
# projects/reproductions/bench_task_necks.py --mode decoders; results, and
# why deeplabv3plus_r18_msrs_toy.py keeps DeepLabV3+:
# docs/methods/tim_task_necks.md.
#   python tools/train.py configs/tim/deeplabv3plus_r18_msrs_searched_decoder_toy.py
_base_ = './retrain_deeplabv3plus_r18_msrs_toy.py'

decoder_channels = 48
model = dict(
    segmentor=dict(
        decode_head=dict(
            genotype='{{ fileDirname }}/genotypes/'
            'deeplabv3plus_r18_msrs_toy_decoder.yaml',
            channels=decoder_channels)))
