# Retrain the network found by search_ruas_toy.py on the toy scenes
# Guide: docs/methods/ruas.md
_base_ = ['./train_ruas_toy_unsupervised.py']

genotype = 'work_dirs/search_ruas_toy/genotypes/latest.yaml'
model = dict(
    network=dict(_delete_=True, type='GenotypeNet', genotype=genotype))
