# Paths and input functions of the interpretation and variant rules (interpret.smk,
# variants.smk).

INTERP = config["interpret"]
INTERP_DIR = f"{OUT}/interpret"
FIGURES_DIR = f"{OUT}/figures"
DEMO_TRUTH = f"{RES}/truth"
PLANTED_MOTIFS = str(
    Path(workflow.basedir) / "resources" / "motifs" / "jaspar2024_demo.jaspar"
)
VAR = config["variants"]
VARIANTS_DIR = f"{OUT}/variants"
VARIANT_FIGURE = f"{OUT}/figures/variant_effects"
# download.smk defines DL (the download plan) and ingests a VCF only if the config lists one
HAS_VCF = config["source"] == "simulate" or (
    "DL" in globals() and "variants" in DL.paths
)


def interpret_models():
    """Accessibility models to explain (interpret.models, or all)."""
    return INTERP["models"] or list(ACC["models"])


def variant_models():
    """Accessibility models that score variants (variants.models, or all)."""
    return VAR["models"] or list(ACC["models"])


def logo_figure(model):
    return f"{FIGURES_DIR}/motif_logos_{model}"


def variant_expression_model():
    """variants.expression_model as paths: `seq_only` names the expression stage's model
    (every seed: their ensemble scores); anything else is a path; null = none."""
    value = VAR["expression_model"]
    if value == "seq_only":
        return [
            f"{OUT}/models/expression/seq_only/seed{s}/model.keras"
            for s in config["expression"]["seeds"]
        ]
    return [value]


def expression_inputs(wildcards):
    """Expression model and gene table, when variants.expression_model is set."""
    if not VAR["expression_model"]:
        return {}
    return {
        "expression_model": variant_expression_model(),
        "genes": VAR["genes"] or f"{OUT}/expression/genes.tsv",
    }


def expression_args(wildcards, input):
    if not VAR["expression_model"]:
        return ""
    return f"--expression-model {input.expression_model} --genes {input.genes}"


def model_file_pairs(models, paths):
    """``MODEL=path`` arguments of the gathering subcommands."""
    return " ".join(f"{m}={p}" for m, p in zip(models, paths))


def interpret_outputs():
    """Final targets of the interpretation stage."""
    out = []
    for m in interpret_models():
        out += [f"{INTERP_DIR}/{m}/motifs.tsv", f"{logo_figure(m)}.svg"]
    if config["source"] == "simulate":
        out.append(f"{OUT}/evaluation/motif_recovery.tsv")
    return out


def variants_outputs():
    """Final targets of the variant stage."""
    if not HAS_VCF:
        return []
    out = [f"{VARIANTS_DIR}/{m}/variants.vcf" for m in variant_models()]
    if config["source"] == "simulate":
        out += [f"{OUT}/evaluation/variant_metrics.tsv", f"{VARIANT_FIGURE}.svg"]
    return out
