# deeplabv3plus_r18_msrs_toy.py with the committed searched decoder
# (toy genotype, width 48 within DeepLabV3+'s FLOPs)
# Guide: docs/methods/tim_task_necks.md
_base_ = './retrain_deeplabv3plus_r18_msrs_toy.py'

decoder_channels = 48
model = dict(
    segmentor=dict(
        decode_head=dict(
            genotype='{{ fileDirname }}/genotypes/'
            'deeplabv3plus_r18_msrs_toy_decoder.yaml',
            channels=decoder_channels)))
