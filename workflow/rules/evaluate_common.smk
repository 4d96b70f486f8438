# Settings, paths and helper functions of the evaluation and report rules (evaluate.smk,
# report.smk).

EVAL = config["evaluate"]
EVAL_DIR = f"{OUT}/evaluation"
TRACKS_DIR = f"{OUT}/tracks/accessibility"
TRUTH_DIR = f"{RES}/truth" if config["source"] == "simulate" else None


def track_models():
    """Models whose seed ensembles tile the test chromosomes as predicted-accessibility tracks."""
    return [m for m in EVAL["tracks"]["models"] if m in ACC["models"]]


def accessibility_tracks():
    return [f"{TRACKS_DIR}/{m}/{t}.bw" for m in track_models() for t in SAMPLES]


def gate_tables():
    """Registered metric tables that some gate refers to (unregistered ones: NOT RUN)."""
    names = {g["table"] for g in EVAL["gates"]}
    return {k: v for k, v in METRIC_TABLES.items() if k in names}


def figure_outputs(stem, caption):
    """pdf + svg + png of a figure; the png goes into the HTML report."""
    png = report(f"{stem}.png", caption=caption, category="Figures")
    return [f"{stem}.pdf", f"{stem}.svg", png]


def locus_track_dir():
    return f"{TRACKS_DIR}/{track_models()[0]}"
