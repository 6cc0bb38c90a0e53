"""The official TIM genotypes and network layouts (``LiuZhu-CV/TIMFusion``
``genotypes.py``), op strings only.
"""
from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class TIMGenotype:
    """Operator chains of one official genotype: ``normal`` (``Cell_Chain2``),
    ``chain_model`` (``Cell_Model``), ``chain_fusion`` (``Cell_Fusion`` /
    ``Cell_Chain``) and the unread ``normal_tv``.
    """

    normal: Tuple[str, ...]
    chain_model: Tuple[str, ...] = ()
    chain_fusion: Tuple[str, ...] = ()
    normal_tv: Tuple[str, ...] = ()


#: every genotype of the official ``genotypes.py``
TIM_GENOTYPES: Dict[str, TIMGenotype] = dict(
    fusion_M=TIMGenotype(
        normal=('Denseblocks_3_1', 'DilConv_3_2'),
        chain_model=('Residualblocks_3_1', 'Residualblocks_3_1'),
        chain_fusion=('Residualblocks_3_1', 'DilConv_3_2'),
        normal_tv=('Residualblocks_3_1', 'Residualblocks_3_2')),
    fusion_light=TIMGenotype(
        normal=('Residualblocks_3_1', 'ECAattention_3'),
        chain_model=('Denseblocks_5_1', 'Denseblocks_5_1'),
        chain_fusion=('Residualblocks_3_1', 'Denseblocks_3_1')),
    # "jointly searching" variant; used by no script
    fusion_M4=TIMGenotype(
        normal=('SPAattention_3', 'DilConv_3_2'),
        chain_model=('Denseblocks_5_1', 'Denseblocks_5_1'),
        chain_fusion=('SPAattention_3', 'Residualblocks_5_1')),
    fusion_ir_proposed=TIMGenotype(normal=('SPAattention_3', 'DilConv_3_2')),
    fusion_vis_proposed=TIMGenotype(
        normal=('ECAattention_3', 'SPAattention_3')),
    fusion_mri=TIMGenotype(
        normal=('Residualblocks_5_1', 'Residualblocks_5_1')),
    fusion_ct=TIMGenotype(normal=('Residualblocks_5_1', 'SPAattention_3')),
    fusion_mri_pet=TIMGenotype(normal=('SepConv_3_1', 'Residualblocks_5_1')),
    fusion_pet=TIMGenotype(
        normal=('Residualblocks_3_1', 'Residualblocks_5_1')),
    fusion_mri_spect=TIMGenotype(
        normal=('Residualblocks_5_1', 'Denseblocks_3_1')),
    fusion_spect=TIMGenotype(normal=('Residualblocks_3_1', 'SPAattention_3')),
    # unused by the scripts: earlier searches and the DARTS ablation
    fusion_ir=TIMGenotype(normal=('SepConv_3_1', 'SPAattention_3')),
    fusion_vis=TIMGenotype(normal=('Residualblocks_3_1', 'SPAattention_3')),
    fusion_ir_Darts=TIMGenotype(normal=('ECAattention_3', 'ECAattention_3')),
    fusion_vis_Darts=TIMGenotype(normal=('SPAattention_3', 'SPAattention_3')),
    fusion_ir_proposed2=TIMGenotype(
        normal=('Residualblocks_3_1', 'SPAattention_3')),
    fusion_vis_proposed2=TIMGenotype(
        normal=('ECAattention_3', 'Residualblocks_3_1')),
)

#: official cell name -> (our cell type, genotype field the cell reads)
TIM_CELL_TYPES: Dict[str, Tuple[str, str]] = dict(
    Cell_Fusion=('MultiScaleFusionCell', 'chain_fusion'),
    Cell_Chain2=('SuccessiveCell', 'normal'),
    Cell_Chain=('SuccessiveCell', 'chain_fusion'),
    Cell_Model=('DecompositionCell', 'chain_model'),
)

#: the official instantiations (C = 48, layers = 1). Stage 1 is
#: ``Network_Fusion9_Meta(cell_names, genotype)`` (:class:`TIMFusionNet`);
#: stage 2 is ``Network_Fusion9_3`` (merge 'mask') or ``Network_Fusion9_2``
#: (merge 'concat') with two successive cells per branch
#: (:class:`TIMEnhanceNet`). ``second_branch`` is the official ``g0``
#: (``cells2``, fed the second argument), ``first_branch`` is ``g1``
#: (``cells3``, fed the first argument). ``call_order`` is the order of the
#: dataset modalities in the official calls (see the configs).
TIM_OFFICIAL_MODELS: Dict[str, dict] = dict(
    ivif=dict(
        stage1=dict(
            cell_names=('Cell_Fusion', 'Cell_Chain2'), genotype='fusion_M'),
        stage2=dict(
            merge='mask',
            first_branch='fusion_vis_proposed',
            second_branch='fusion_ir_proposed'),
        modalities=('ir', 'vi'),
        # model_1(ir, vis); model_2(vis, ir, f)
        call_order=dict(stage1=('ir', 'vi'), stage2=('vi', 'ir'))),
    ivif_light=dict(
        stage1=dict(
            cell_names=('Cell_Chain2', 'Cell_Chain2'),
            genotype='fusion_light'),
        modalities=('ir', 'vi'),
        # model_1(vis, ir)
        call_order=dict(stage1=('vi', 'ir'))),
    mri_ct=dict(
        stage1=dict(
            cell_names=('Cell_Fusion', 'Cell_Chain2'), genotype='fusion_M'),
        stage2=dict(
            merge='concat',
            first_branch='fusion_ct',
            second_branch='fusion_mri'),
        modalities=('mri', 'ct'),
        call_order=dict(stage1=('mri', 'ct'), stage2=('mri', 'ct'))),
    mri_pet=dict(
        stage1=dict(
            cell_names=('Cell_Fusion', 'Cell_Chain2'), genotype='fusion_M'),
        stage2=dict(
            merge='concat',
            first_branch='fusion_pet',
            second_branch='fusion_mri_pet'),
        modalities=('mri', 'pet'),
        call_order=dict(stage1=('pet', 'mri'), stage2=('pet', 'mri'))),
    mri_spect=dict(
        stage1=dict(
            cell_names=('Cell_Fusion', 'Cell_Chain2'), genotype='fusion_M'),
        stage2=dict(
            merge='concat',
            first_branch='fusion_spect',
            second_branch='fusion_mri_spect'),
        modalities=('mri', 'spect'),
        call_order=dict(stage1=('mri', 'spect'), stage2=('mri', 'spect'))),
)
