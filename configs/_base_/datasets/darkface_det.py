# DARK FACE (UG2+ challenge, Yang et al. 2020), the layout of its release:
#   data/DarkFace/image/<id>.png
#   data/DarkFace/label/<id>.txt    (count line, then "x1 y1 x2 y2" rows)
#   data/DarkFace/splits/{train,test}.txt  (RUAS Sec. 7.1: 5000 / 1000)
# One class, 'face'. The official RUAS detector tests at the size scaled by
# sqrt(1500 * 1000 / (H * W)); this SSD300 setting resizes to 300 x 300.
_base_ = ['./exdark_det.py']

dataset_type = 'DarkFaceDataset'
data_root = 'data/DarkFace/'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
