"""Write the bundled example: a simulated calcineurin knockdown in ER-positive cells.

3 control (non-targeting siRNA) vs 3 knockdown (siRNA against PPP3CA and PPP3CB) samples,
negative-binomial counts on ~480 real human genes, written as one htseq-count file per sample
(the exact layout htseq-count prints, trailer rows included) plus the sample sheet. Seeded:
running it again writes byte-identical files.

Truth programmed into the counts:
- PPP3CA, PPP3CB (the knockdown targets): log2FC -2.
- Well-known estrogen-receptor targets: log2FC drawn from U(-1.5, -0.6): the direction Masaki et al.
  (PNAS 2021) report for ER target genes after calcineurin knockdown; the range is this example's choice.
- 20 other genes: |log2FC| from U(0.7, 2), half up and half down; the rest unchanged.

Usage: ``python example/make_example.py`` from the project root.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20211207
SAMPLES = [
    ("control_1", "control"),
    ("control_2", "control"),
    ("control_3", "control"),
    ("knockdown_1", "knockdown"),
    ("knockdown_2", "knockdown"),
    ("knockdown_3", "knockdown"),
]
SIZE_FACTORS = [1.0, 0.8, 1.25, 0.9, 1.15, 0.75]
TARGETS = ["PPP3CA", "PPP3CB"]

ER_TARGETS = """
GREB1 PGR TFF1 MYB XBP1 CA12 PDZK1 IGFBP4 NRIP1 CXCL12 AREG SIAH2 KRT19 CCND1 TFF3 STC2 SGK1 RET
IL17RB ELOVL2 NPY1R EGR3 MYBL1 SLC7A5 FKBP4 RARA BCL2 CELSR2 TPD52L1 KDM4B ADCY9 ABAT AMFR ANXA9
CISH CLIC3 KRT8 KRT18 MLPH MREG OLFM1 PRSS23 RAB31 RHOBTB3 SLC1A4 SYBU TIAM1 TOB1 WWC1 HSPB8 LRIG1
FLNB TPBG SLC9A3R1 MYC
""".split()

OTHER_GENES = """
ACTB GAPDH EEF1A1 RPLP0 TUBB B2M PPIA HPRT1 TBP GUSB HMBS SDHA YWHAZ UBC PGK1 LDHA ENO1 ALDOA PKM
TPI1 PGAM1 GPI HK2 PFKP PFKL G6PD TALDO1 TKT IDH1 IDH2 MDH1 MDH2 CS ACO2 SUCLG1 FH OGDH DLD PDHA1
ATP5F1A ATP5F1B COX4I1 NDUFA4 UQCRC1 CYCS SOD1 SOD2 CAT GPX1 PRDX1 TXN TXNRD1 GSR NQO1 HMOX1
ESR1 ESR2 AR ERBB2 EGFR ERBB3 IGF1R INSR KRAS NRAS HRAS BRAF RAF1 MAP2K1 MAPK1 MAPK3 MAPK14 JUN FOS
FOSB JUNB ATF3 EGR1 EGR2 IER3 DUSP1 DUSP6 KLF4 KLF6 PIK3CA PIK3R1 AKT1 AKT2 PTEN MTOR RPTOR RICTOR
TSC1 TSC2 RHEB RPS6KB1 EIF4EBP1 EIF4E FOXO1 FOXO3 GSK3B CTNNB1 APC AXIN1 TCF7L2 LEF1 NOTCH1 HES1
JAG1 DLL1 SMAD2 SMAD3 SMAD4 TGFB1 TGFBR1 TGFBR2 BMP4 ID1 ID2 STAT1 STAT3 STAT5A JAK1 JAK2 SOCS3
NFKB1 RELA NFKBIA TNF IL6 IL1B CXCL8 CCL2 PPP3R1 PPP3CC NFATC1 NFATC2 NFATC3 RCAN1 CALM1 CALM2
CAMK2D PPP1CA PPP2CA PPP2R1A UBE3A CDK1 CDK2 CDK4 CDK6 CCNA2 CCNB1 CCNE1 CCND3 CDKN1A CDKN1B
CDKN2A RB1 E2F1 E2F2 MCM2 MCM3 MCM4 MCM5 MCM6 MCM7 PCNA TOP2A MKI67 AURKA AURKB PLK1 BUB1 CDC20
CENPF KIF11 TPX2 BIRC5 FOXM1 TYMS RRM1 RRM2 TK1 DHFR POLA1 POLD1 POLE RFC4 FEN1 LIG1 RAD51 BRCA1
BRCA2 ATM ATR CHEK1 CHEK2 TP53 MDM2 BAX BAK1 BCL2L1 MCL1 BID CASP3 CASP8 CASP9 APAF1 XIAP FAS
TNFRSF10B GADD45A SESN1 DDB2 XPC ERCC1 MSH2 MLH1 PARP1 H2AX HSPA1A HSPA5 HSP90AA1 HSP90AB1 HSPD1
DNAJB1 CALR CANX PDIA3 PDIA4 ATF4 ATF6 DDIT3 ERN1 EIF2AK3 SEC61A1 SRP54 VCP PSMA1 PSMB5 PSMD1
UBB UBA1 CUL1 SKP1 RBX1 FBXW7 MYCN MAX MXD1 NPM1 NCL FBL DKC1 POLR1A POLR2A GTF2B TAF1 MED1 EP300
CREBBP NCOA1 NCOA2 NCOA3 NCOR1 NCOR2 HDAC1 HDAC2 HDAC3 SIRT1 KAT2A DNMT1 DNMT3A TET2 EZH2 SUZ12
KMT2A KMT2D KDM1A KDM5B SETD2 ARID1A SMARCA4 SMARCB1 CHD4 CTCF RAD21 SMC1A SMC3 STAG2 LMNA LMNB1
VIM CDH1 CDH2 EPCAM KRT5 KRT14 KRT17 TJP1 CLDN4 CLDN7 OCLN DSP JUP FN1 COL1A1 COL1A2 COL3A1 COL4A1
SPARC LAMB1 LAMC1 ITGB1 ITGA6 ITGAV ITGB4 CD44 MMP2 MMP9 MMP14 TIMP1 TIMP2 SERPINE1 PLAU PLAUR VEGFA
KDR FLT1 ANGPT2 HIF1A EPAS1 VHL ARNT CA9 SLC2A1 SLC2A3 PDK1 BNIP3 NDRG1 LOX ADM MT2A FTH1 FTL TFRC
SLC40A1 HAMP GATA3 FOXA1 ALB TTR INS LYZ PTPRC CD3E CD19 MS4A1 HBB HBA1 APOA1 APOE LDLR HMGCR HMGCS1 SREBF1
SREBF2 FASN ACACA SCD INSIG1 FDFT1 SQLE CYP51A1 DHCR7 LSS MVD ACLY ACSL4 CPT1A PPARA PPARG CEBPA
CEBPB FABP4 LPL PLIN1 ADIPOQ LEP SLC7A11 GCLC GCLM NFE2L2 KEAP1 AHR CYP1A1 CYP1B1 ABCB1 ABCG2 ABCC1
SLC3A2 SLC1A5 SLC38A2 ASNS PHGDH PSAT1 PSPH SHMT2 MTHFD2 GLS GLUD1 GOT1 GOT2 ODC1 SRM AMD1
RPL3 RPL4 RPL5 RPL7 RPL10 RPL11 RPL13 RPS3 RPS6 RPS8 RPS14 RPS19 EEF2 EIF4A1 EIF4G1 EIF3A PABPC1
HNRNPA1 HNRNPK SRSF1 SRSF2 SF3B1 U2AF1 PTBP1 ELAVL1 TARDBP FUS MALAT1 NEAT1 XIST GAS5 H19 SNHG1
""".split()


def main() -> None:
    """Simulate the counts and write ``example/htseq/*.htseq.txt`` and ``config/samples.tsv``."""
    rng = np.random.default_rng(SEED)
    genes = sorted(set(TARGETS + ER_TARGETS + OTHER_GENES))
    n = len(genes)
    # Log-normal baseline expression, like real libraries: a few thousand reads for most genes,
    # housekeeping genes far higher, a handful almost silent (tissue-specific genes).
    baseline = np.exp(rng.normal(np.log(400), 1.3, size=n))
    for i, g in enumerate(genes):
        if g in ("ACTB", "GAPDH", "EEF1A1", "RPLP0", "FTL", "MALAT1"):
            baseline[i] = rng.uniform(20000, 60000)
        if g in ("ALB", "TTR", "INS", "LYZ", "PTPRC", "CD3E", "CD19", "MS4A1", "HBB", "HBA1", "XIST", "LEP", "ADIPOQ"):
            baseline[i] = rng.uniform(0.1, 3)
    lfc = np.zeros(n)
    index = {g: i for i, g in enumerate(genes)}
    for g in TARGETS:
        lfc[index[g]] = -2.0
    for g in ER_TARGETS:
        lfc[index[g]] = rng.uniform(-1.5, -0.6)
    others = [index[g] for g in OTHER_GENES if baseline[index[g]] > 50 and g not in ("ESR1", "PPP3R1")]
    random_de = rng.choice(others, size=20, replace=False)
    lfc[random_de] = rng.uniform(0.7, 2.0, size=20) * np.repeat([1, -1], 10)
    dispersion = 0.05 * np.exp(rng.normal(0, 0.35, size=n))

    out = HERE / "htseq"
    out.mkdir(exist_ok=True)
    rows = ["sample\tcondition\treplicate\tquant"]
    for (sample, condition), sf in zip(SAMPLES, SIZE_FACTORS):
        mu = baseline * sf * (2.0**lfc if condition == "knockdown" else 1.0)
        # Gamma-Poisson is the negative binomial with mean mu and variance mu + dispersion * mu^2.
        counts = rng.poisson(rng.gamma(1.0 / dispersion, mu * dispersion))
        assigned = int(counts.sum())
        lines = [f"{g}\t{c}" for g, c in zip(genes, counts)]
        # htseq-count's trailer rows, at rates typical of a stranded poly-A library.
        lines += [
            f"__no_feature\t{int(assigned * 0.041)}",
            f"__ambiguous\t{int(assigned * 0.012)}",
            f"__too_low_aQual\t{int(assigned * 0.006)}",
            "__not_aligned\t0",
            f"__alignment_not_unique\t{int(assigned * 0.052)}",
        ]
        (out / f"{sample}.htseq.txt").write_text("\n".join(lines) + "\n")
        rows.append(f"{sample}\t{condition}\t{sample.rsplit('_', 1)[1]}\texample/htseq/{sample}.htseq.txt")
    (HERE.parent / "config" / "samples.tsv").write_text("\n".join(rows) + "\n")
    truth = ["gene_id\ttrue_log2fc\tbaseline_mean\tdispersion"]
    truth += [f"{g}\t{lf:.3f}\t{b:.2f}\t{d:.4f}" for g, lf, b, d in zip(genes, lfc, baseline, dispersion)]
    (HERE / "truth.tsv").write_text("\n".join(truth) + "\n")


if __name__ == "__main__":
    main()
