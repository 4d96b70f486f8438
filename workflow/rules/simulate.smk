# The embedded demo study: a simulated genome with planted JASPAR motifs and known truth.


rule simulate_demo:
    input:
        motifs="resources/motifs/jaspar2024_demo.jaspar",
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
        truth_cres=f"{RES}/truth/cres.tsv",
        truth_motifs=f"{RES}/truth/motif_instances.tsv",
        truth_expression=f"{RES}/truth/expression_terms.tsv",
        truth_variants=f"{RES}/truth/variants.tsv",
        truth_summary=f"{RES}/truth/simulation.json",
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
        outdir=lambda wildcards, output: Path(output.sizes).parent.parent,
    shell:
        "seq2func simulate --params {params.simulate:q} --samples {input.samples}"
        " --motifs {input.motifs} --outdir {params.outdir} > {log} 2>&1"
