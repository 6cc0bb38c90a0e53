# N_R (registration_ivif_tno.py) trained on RoadScene pairs
# Guide: docs/methods/registration.md
_base_ = './registration_ivif_tno.py'

data_root = 'data/RoadScene/'
reference_size = (330, 490)
train_pipeline = _base_.train_pipeline[:-2] + [
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
