# Retrain the network found by configs/ruas/search_ruas_toy.py on the toy
# low-light scenes (hierarchical, 20 iterations; see
# train_ruas_toy_unsupervised.py).
_base_ = ['./train_ruas_toy_unsupervised.py']

genotype = 'work_dirs/search_ruas_toy/genotypes/latest.yaml'
model = dict(
    network=dict(_delete_=True, type='GenotypeNet', genotype=genotype))
