# Paths, registries and input functions of the expression rules (expression.smk).

EXPR = config["expression"]
EXPR_DIR = f"{OUT}/expression"
EXPR_MODELS = f"{OUT}/models/expression"
EXPR_EVAL = f"{OUT}/evaluation"
EXPR_FIGURES = {
    "scatter": f"{OUT}/figures/expression_scatter",
    "ablation": f"{OUT}/figures/expression_ablation",
}
EXPR_TRUTH = f"{RES}/truth/expression_terms.tsv"
EXPR_EXPLAINABLE = f"{EXPR_EVAL}/expression_explainable_variance.tsv"
EXPR_SIMULATED = config["source"] == "simulate"
FIG_FORMATS = ["pdf", "svg", "png"]

PAPER_FIGURES.extend(EXPR_FIGURES.values())
METRIC_TABLES["expression"] = f"{EXPR_EVAL}/expression_metrics.tsv"
if EXPR_SIMULATED:
    METRIC_TABLES["expression_explainable_variance"] = EXPR_EXPLAINABLE


def expression_accessibility_models():
    """model.keras files whose strand-averaged predictions form the predicted chromatin."""
    pred = EXPR["chromatin"]["predicted_model"]
    seeds = pred["seeds"] or model_seeds(pred["name"])
    return [f"{MODELS_DIR}/{pred['name']}/seed{s}/model.keras" for s in seeds]


def expression_predictions():
    """VARIANT=path arguments of evaluate-expression (one per seed)."""
    return {
        f"{v}/seed{s}": f"{EXPR_MODELS}/{v}/seed{s}/predictions.npz"
        for v in EXPR["variants"]
        for s in EXPR["seeds"]
    }


def expression_outputs():
    """Final targets of the expression stage."""
    out = [METRIC_TABLES["expression"], f"{EXPR_EVAL}/expression_ablation.tsv"]
    out += [f"{stem}.{fmt}" for stem in EXPR_FIGURES.values() for fmt in FIG_FORMATS]
    out += [EXPR_EXPLAINABLE] if EXPR_SIMULATED else []
    return out
