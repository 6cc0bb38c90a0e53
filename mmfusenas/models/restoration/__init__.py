from .hbl_net import (HBL_DECODER_POSITIONS, HBL_ENCODER_POSITIONS,
                      HBL_UNIT_EDGES, HBLDecoder, HBLEncoder, HBLNet,
                      hbl_genotype_choices, hbl_network_cfg, pad_to_multiple)

__all__ = [
    'HBL_DECODER_POSITIONS', 'HBL_ENCODER_POSITIONS', 'HBLDecoder',
    'HBLEncoder', 'HBLNet', 'pad_to_multiple', 'HBL_UNIT_EDGES',
    'hbl_genotype_choices', 'hbl_network_cfg'
]
