# Paths and input functions of the training rules (train.smk).

ACC = config["accessibility"]
MODELS_DIR = f"{OUT}/models/accessibility"
PRED_DIR = f"{OUT}/predictions/accessibility"


def model_seeds(model):
    """Seeds of one accessibility model (its own `seeds` or accessibility.seeds)."""
    return ACC["models"][model].get("seeds", ACC["seeds"])


def seed_models(wildcards):
    """model.keras of every seed of {model}: interpretation, variant scores and tracks use
    their seed ensemble (mean of the seeds' probabilities, as in the evaluation)."""
    return [
        f"{MODELS_DIR}/{wildcards.model}/seed{s}/model.keras"
        for s in model_seeds(wildcards.model)
    ]


def ensemble_label(model):
    """How figures name a model's seed ensemble, e.g. `basset (2 seeds)`."""
    n = len(model_seeds(model))
    return f"{model} ({n} seed{'s' if n > 1 else ''})"


def trained_models():
    """(model, seed) pairs of the config."""
    return [(m, s) for m in ACC["models"] for s in model_seeds(m)]


def accessibility_predictions(split):
    return [f"{PRED_DIR}/{m}/seed{s}/{split}.npz" for m, s in trained_models()]
