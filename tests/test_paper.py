"""The paper's stated facts: numbers with their source, and the default config follows them."""

from pathlib import Path

import yaml

from tracin_study import paper
from tracin_study.model import build_mlp, count_parameters

ROOT = Path(__file__).resolve().parents[1]


def test_paper_facts_carry_their_source_and_the_parameter_count_doubt():
    facts = {f.name: f for f in paper.FACTS}
    assert facts["test_explained_variance"].value == "0.70"
    assert facts["train_explained_variance"].value == "0.72"
    assert facts["split"].value == "8:2 train/test split"
    assert facts["architecture"].value == "3 hidden layers, about 168K parameters"
    assert facts["checkpoints"].value == "every 20th epoch"
    assert facts["palo_alto"].value.startswith("11 houses in Palo Alto")
    assert "162K" in facts["architecture"].note and "168,961" in facts["architecture"].note
    assert all(f.source == paper.CA_SECTION for f in facts.values())


def test_the_default_config_follows_what_the_paper_states():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    assert config["data"]["test_fraction"] == paper.TEST_FRACTION
    assert len(config["model"]["hidden"]) == paper.HIDDEN_LAYERS
    n = count_parameters(build_mlp(hidden=config["model"]["hidden"]))
    assert abs(n - paper.PARAMETERS) / paper.PARAMETERS < 0.01, n  # "about 168K"
    assert config["training"]["epochs"] == paper.EPOCHS
    every = list(range(paper.CHECKPOINT_EVERY, paper.EPOCHS + 1, paper.CHECKPOINT_EVERY))
    assert config["influence"]["epochs"] == every
    assert config["palo_alto"]["n_houses"] == paper.PALO_ALTO_HOUSES
