# Train the network derived by search_ruas_lol.py unsupervised on LOL
# Guide: docs/methods/ruas.md
_base_ = ['./train_ruas_lol_unsupervised.py']

genotype = 'work_dirs/search_ruas_lol/genotypes/latest.yaml'
model = dict(
    network=dict(_delete_=True, type='GenotypeNet', genotype=genotype))
