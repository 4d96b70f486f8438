# Inputs of the embedded demo study (source: simulate): a simulated genome with planted JASPAR
# motifs, written to the canonical paths of common.smk, and the known truth (TRUTH_DIR).

TARGETS["simulate"] = CANONICAL_INPUTS


rule simulate_demo:
    input:
        motifs=DEMO_MOTIFS,
        samples=config["samples"],
    output:
        fasta=GENOME_FASTA,
        fai=GENOME_FAI,
        sizes=CHROM_SIZES,
        blacklist=BLACKLIST,
        gtf=GENES_GTF,
        expression=EXPRESSION,
        vcf=VARIANTS_VCF,
        bigwigs=[signal_bigwig(s) for s in SAMPLES],
        peaks=[peaks_file(s) for s in SAMPLES],
        truth_cres=f"{TRUTH_DIR}/cres.tsv",
        truth_motifs=f"{TRUTH_DIR}/motif_instances.tsv",
        truth_expression=f"{TRUTH_DIR}/expression_terms.tsv",
        truth_variants=f"{TRUTH_DIR}/variants.tsv",
        truth_summary=f"{TRUTH_DIR}/simulation.json",
        truth_bias=f"{TRUTH_DIR}/enzyme_bias.tsv",
    log:
        f"{LOGS}/simulate_demo.log",
    benchmark:
        f"{BENCH}/simulate_demo.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    resources:
        # memory scales with the largest chromosome (~60 bytes per base), not the genome; a
        # retry (attempt 2, 3: profiles/slurm `retries`) asks for twice, three times as much
        mem_mb=lambda wc, attempt: attempt
        * (1000 + 60 * max(config["simulate"]["chromosomes"].values()) // 1_000_000),
        runtime=lambda wc, attempt: attempt
        * (10 + sum(config["simulate"]["chromosomes"].values()) // 5_000_000),
    params:
        simulate=as_json(config["simulate"]),
        # the study's resources (RES): genome/, signal/, peaks/, ..., truth/
        outdir=lambda wildcards, output: Path(output.sizes).parent.parent,
    shell:
        "seq2func simulate --params {params.simulate:q} --samples {input.samples:q}"
        " --motifs {input.motifs:q} --outdir {params.outdir:q} > {log:q} 2>&1"
