# Settings, paths and helper functions of the evaluation and report rules (evaluate.smk,
# report.smk).

EVAL = config["evaluate"]
EVAL_DIR = f"{OUT}/evaluation"
TRACKS_DIR = f"{OUT}/tracks/accessibility"
TRUTH_DIR = f"{RES}/truth" if config["source"] == "simulate" else None


def track_models():
    """(model, seed) of the predicted-accessibility tracks: each listed model's first seed."""
    return [
        (m, model_seeds(m)[0]) for m in EVAL["tracks"]["models"] if m in ACC["models"]
    ]


def accessibility_tracks():
    return [
        f"{TRACKS_DIR}/{m}_seed{s}/{t}.bw" for m, s in track_models() for t in SAMPLES
    ]


def gate_tables():
    """Registered metric tables that some gate refers to (unregistered ones: NOT RUN)."""
    names = {g["table"] for g in EVAL["gates"]}
    return {k: v for k, v in METRIC_TABLES.items() if k in names}


def figure_outputs(stem, caption):
    """pdf + svg + png of a figure; the png goes into the HTML report."""
    png = report(f"{stem}.png", caption=caption, category="Figures")
    return [f"{stem}.pdf", f"{stem}.svg", png]


def locus_track_dir():
    m, s = track_models()[0]
    return f"{TRACKS_DIR}/{m}_seed{s}"
