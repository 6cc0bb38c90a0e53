# N_R (registration_ivif_tno.py) trained on RoadScene pairs (IR 1-channel,
# VIS colour: registered through its luminance); split files under
# data/RoadScene/splits/ as for TNO (train / val / test).
#   python tools/train.py configs/tim/registration_ivif_roadscene.py
_base_ = './registration_ivif_tno.py'

data_root = 'data/RoadScene/'
# a typical RoadScene image (about 330 x 490)
reference_size = (330, 490)
# the pipeline of registration_ivif_tno.py with this reference size
train_pipeline = _base_.train_pipeline[:-2] + [
    dict(_base_.misalignment, reference_size=reference_size),
    dict(type='PackFusionInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
