# N_R (registration_ivif_tno.py) trained on RoadScene pairs (IR 1-channel,
# VIS colour: registered through its luminance).
#   python tools/train.py configs/tim/registration_ivif_roadscene.py
_base_ = './registration_ivif_tno.py'

data_root = 'data/RoadScene/'
# a typical RoadScene image (about 330 x 490)
reference_size = (330, 490)
train_pipeline = [
    dict(type='LoadPairedImages'),
    dict(type='PairedRandomCrop', crop_size=(128, 128)),
    dict(
        type='PairedRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PairedRandomRot90', prob=0.5),
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
