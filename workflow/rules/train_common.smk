# Paths and input functions of the training rules (train.smk).

ACC = config["accessibility"]
MODELS_DIR = f"{OUT}/models/accessibility"
PRED_DIR = f"{OUT}/predictions/accessibility"


def model_seeds(model):
    """Seeds of one accessibility model (its own `seeds` or accessibility.seeds)."""
    return ACC["models"][model].get("seeds", ACC["seeds"])


def trained_models():
    """(model, seed) pairs of the config."""
    return [(m, s) for m in ACC["models"] for s in model_seeds(m)]


def accessibility_predictions(split):
    return [f"{PRED_DIR}/{m}/seed{s}/{split}.npz" for m, s in trained_models()]
