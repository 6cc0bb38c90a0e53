# Train the network derived by configs/ruas/search_ruas_lol.py (scene module
# + denoiser from the combined genotype file) unsupervised on LOL, with the
# settings of train_ruas_lol_unsupervised.py.
#   python tools/train.py configs/ruas/retrain_ruas_lol.py \
#       --cfg-options model.network.genotype=<work_dir>/genotypes/latest.yaml
_base_ = ['./train_ruas_lol_unsupervised.py']

genotype = 'work_dirs/search_ruas_lol/genotypes/latest.yaml'
model = dict(
    network=dict(_delete_=True, type='GenotypeNet', genotype=genotype))
